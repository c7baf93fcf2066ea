#!/usr/bin/env python3
"""Writes build.ninja from the source tree.

Every .c file under a library folder belongs to that library; every .c file
under its test/ folder belongs to that folder's test program. Run it again
after adding or removing a source file (`ninja` does it by itself when this
script changes). The generated build.ninja is committed, so a fresh clone
builds with `ninja` alone.

Variants: build/ (release), build-asan/ (AddressSanitizer + UBSan),
build-tsan/ (ThreadSanitizer), build-clang/ (clang, warnings only: the program, micro suite and plugins).
"""
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))

# Libraries in dependency order (each may use the ones before it).
LIBS = [
    ("core", ["core", "core/pool", "core/queue", "core/handoff", "core/lock"]),
    ("workloads", ["workloads"]),
    ("reports", ["reports"]),
]
# Programs: name -> (main sources' folder, libraries)
PROGRAMS = {
    "pendbench": ("bench/pendbench", ["reports", "workloads", "core"]),
}
CXX_PROGRAMS = {
    # name -> (C sources folder, C++ shim folder, libs)
    "pendbench-micro": ("bench/micro", "bench/gbench", ["workloads", "core"]),
}
# Plugins (pendbench_plugin.h): each .c file of these folders is built into
# <variant>/<out>/<name>.so, with the variant's flags. The examples are part
# of `all`; the CLI test's bad plugins (wrong ABI, no symbol, NULL operation)
# are built for the CLI test.
PLUGIN_DIRS = [
    ("examples/plugins", "plugins"),
    ("bench/pendbench/test/plugins", "test/plugins"),
]

# (program, folder, libraries, file-name prefix filter: None = files not
# claimed by another entry of the same folder)
TEST_DIRS = [
    ("strategies", "core/test", ["core"], "strategy_"),
    ("core", "core/test", ["core"], None),
    ("workloads", "workloads/test", ["workloads", "core"], None),
    ("reports", "reports/test", ["reports", "workloads", "core"], None),
    ("gbench", "bench/gbench/test", ["core"], None),
    # Runs the pendbench program of the same variant; builds its input files
    # with the reports fixtures (TEST_SHARED_SOURCES).
    ("cli", "bench/pendbench/test", ["reports", "workloads", "core"], None),
    # Runs the pendbench-micro program of the same variant.
    ("micro", "bench/micro/test", [], None),
]

# Test sources a program takes from another test folder: fixtures kept once
# for two test programs (the folder's own program builds them anyway). The
# direction is the libraries': a program may take only what its libraries
# may use (bench -> reports -> workloads -> core).
TEST_SHARED_SOURCES = {
    "cli": ["reports/test/fixture_runs.c"],
    # How the CLI tests run a program of their variant, for the micro's.
    "micro": ["bench/pendbench/test/program.c"],
}


def test_sources(folder, prefix):
    srcs = c_sources(folder)
    if prefix is not None:
        return [s for s in srcs if os.path.basename(s).startswith(prefix)]
    claimed = [p for (_, f, _, p) in TEST_DIRS if f == folder and p is not None]
    return [s for s in srcs
            if not any(os.path.basename(s).startswith(p) for p in claimed)]

VARIANTS = {
    "build": {
        "cflags": "-O2 -g",
        "ldflags": "",
        "cc": "gcc",
        "cxx": "g++",
    },
    "build-asan": {
        "cflags": "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined "
                  "-fno-sanitize-recover=undefined -DPB_SANITIZER=1",
        "ldflags": "-fsanitize=address,undefined",
        "cc": "gcc",
        "cxx": "g++",
    },
    "build-tsan": {
        "cflags": "-O1 -g -fsanitize=thread -DPB_SANITIZER=1 -DPB_TSAN=1",
        "ldflags": "-fsanitize=thread",
        "cc": "gcc",
        "cxx": "g++",
    },
    "build-clang": {
        "cflags": "-O2 -g",
        "ldflags": "",
        "cc": "clang",
        "cxx": "clang++",
    },
}

# Each variant tells the program what it is: reports/context.c records
# PB_BUILD_VARIANT and PB_BUILD_CFLAGS (the variant's own flags) in every
# result file, so results of an ASan build are never mistaken for release
# figures. Single quotes keep the double quotes and spaces for the C
# preprocessor through ninja's /bin/sh (the flags hold no single quote).
def identify_variants():
    short = {"build": "release", "build-asan": "asan", "build-tsan": "tsan",
             "build-clang": "clang"}
    for vname, v in VARIANTS.items():
        own = v["cflags"]
        assert "'" not in own and '"' not in own and "$" not in own, vname
        v["cflags"] = (f"{own} '-DPB_BUILD_VARIANT=\"{short[vname]}\"' "
                       f"'-DPB_BUILD_CFLAGS=\"{own}\"'")


identify_variants()

COMMON_CFLAGS = ("-std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra -Werror -Wshadow "
                 "-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter "
                 "-Icore/include -Iworkloads/include -Ireports/include -Ibench/gbench/include "
                 "-I/usr/include/x86_64-linux-gnu -I/usr/include/postgresql")
COMMON_CXXFLAGS = ("-std=c++17 -D_GNU_SOURCE -pthread -Wall -Wextra -Werror "
                   "-Ibench/gbench/include")
# libpq is not linked: reports/history_pg.c loads it when a server history
# is opened (its dependencies were most of every command's start-up); the
# reports tests, which run a server of their own, link it.
LIBS_LINK = ("-lhwloc -lck -lurcu -lurcu-common -linih -ljansson -lsqlite3 "
             "-ldl -lm -pthread")
JEMALLOC = "-ljemalloc"


# Fuzz targets: each fuzz/fuzz_<name>.c is a libFuzzer target built into
# build-fuzz/<name> (clang, ASan + UBSan, the libraries instrumented for
# coverage), with its committed seed corpus in fuzz/corpus/<name>/.
# `ninja fuzz` runs each for FUZZ_SECONDS; new inputs it finds go to
# build-fuzz/corpus/<name>/ (never into the committed seeds). README.md,
# "Fuzzing", says how to run them longer.
FUZZ_CFLAGS = ("-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined "
               "-fno-sanitize-recover=undefined -DPB_SANITIZER=1 -DPB_FUZZ=1")
FUZZ_LDFLAGS = "-fsanitize=fuzzer,address,undefined"
FUZZ_SECONDS = 8
# Seeds kept elsewhere in the tree, used as they are (not copied).
FUZZ_MORE_SEEDS = {"jobfile": "examples", "topo_xml": "workloads/test/data"}
# The bounded run loads XML the way pendbench does, through its checking
# child: hwloc 2.9 crashes on many malformed files (pendbench contains
# that, but cannot fix hwloc), so in-process the run would fail on hwloc's
# bugs. By hand, without it, topo_xml loads in-process to find them.
FUZZ_ENV = {"topo_xml": "PB_FUZZ_XML_CONTAINED=1"}
# A single input slower than this is a finding (the caps must keep every
# parser fast); more memory than this too.
FUZZ_RUN_ARGS = (f"-max_total_time={FUZZ_SECONDS} -timeout=10 -rss_limit_mb=1024 "
                 "-print_final_stats=0")


def write_libs(w, vname, vars_, libs):
    """The static libraries of a variant, in the order given: {lib: file}."""
    files = {}
    for lib, folders in libs:
        objs = []
        for folder in folders:
            for src in c_sources(folder):
                obj = f"{vname}/obj/{src[:-2]}.o"
                w(f"build {obj}: cc {src}")
                w(vars_)
                objs.append(obj)
        if objs:
            lf = f"{vname}/lib{lib}.a"
            w(f"build {lf}: ar {' '.join(objs)}")
            files[lib] = lf
    return files


def write_fuzz(w):
    """The build-fuzz/ variant: fuzz targets only. Returns the run stamps."""
    vname = "build-fuzz"
    w(f"# ---- fuzz targets ({vname})")
    vars_ = f"  cc = clang\n  cflags = {FUZZ_CFLAGS}"
    # link order: users before what they use
    libs = list(write_libs(w, vname, vars_, reversed(LIBS)).values())
    stamps = []
    for src in c_sources("fuzz"):
        name = os.path.basename(src)[:-2]
        if not name.startswith("fuzz_"):
            continue
        name = name[len("fuzz_"):]
        obj = f"{vname}/obj/{src[:-2]}.o"
        w(f"build {obj}: cc {src}")
        w(vars_)
        b = f"{vname}/{name}"
        w(f"build {b}: link {obj} {' '.join(libs)}")
        w(f"  cc = clang\n  ldflags = {FUZZ_LDFLAGS}\n  libs = {JEMALLOC}")
        stamp = f"{vname}/{name}.fuzzed"
        w(f"build {stamp}: run_fuzz {b}")
        w(f"  corpus = {vname}/corpus/{name}")
        w(f"  seeds = fuzz/corpus/{name} {FUZZ_MORE_SEEDS.get(name, '')}".rstrip())
        if name in FUZZ_ENV:
            w(f"  env = {FUZZ_ENV[name]}")
        stamps.append(stamp)
    w(f"build fuzz: phony {' '.join(stamps)}")
    w("")
    return stamps


def c_sources(folder):
    path = os.path.join(ROOT, folder)
    if not os.path.isdir(path):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(path)
                  if f.endswith(".c") and os.path.isfile(os.path.join(path, f)))


def cxx_sources(folder):
    path = os.path.join(ROOT, folder)
    if not os.path.isdir(path):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(path)
                  if f.endswith(".cc") and os.path.isfile(os.path.join(path, f)))


def main():
    out = []
    w = out.append
    w("# Generated by configure.py: edit that, not this.")
    w("ninja_required_version = 1.10")
    w("builddir = build")
    w("common_cflags = " + COMMON_CFLAGS)
    w("common_cxxflags = " + COMMON_CXXFLAGS)
    w("libs_link = " + LIBS_LINK)
    w("")
    w("rule regen")
    w("  command = python3 configure.py")
    w("  generator = 1")
    w("  description = CONFIGURE")
    w("build build.ninja: regen configure.py")
    w("")
    w("rule cc")
    w("  command = $cc -MMD -MF $out.d $common_cflags $cflags -c $in -o $out")
    w("  deps = gcc")
    w("  depfile = $out.d")
    w("  description = CC $out")
    w("rule cxx")
    w("  command = $cxx -MMD -MF $out.d $common_cxxflags $cflags -c $in -o $out")
    w("  deps = gcc")
    w("  depfile = $out.d")
    w("  description = CXX $out")
    w("rule ar")
    w("  command = rm -f $out && ar crs $out $in")
    w("  description = AR $out")
    w("rule link")
    w("  command = $cc $ldflags -o $out $in $libs $libs_link")
    w("  description = LINK $out")
    w("rule linkxx")
    w("  command = $cxx $ldflags -o $out $in $libs $libs_link")
    w("  description = LINK $out")
    w("rule plugin")
    w("  command = $cc -MMD -MF $out.d $common_cflags $cflags -fPIC -shared -o $out $in $ldflags")
    w("  deps = gcc")
    w("  depfile = $out.d")
    w("  description = PLUGIN $out")
    w("rule run_fuzz")
    w("  command = mkdir -p $corpus build-fuzz/findings && "
      f"$env $in {FUZZ_RUN_ARGS} -artifact_prefix=build-fuzz/findings/ $corpus $seeds")
    w("  description = FUZZ $in")
    w("  pool = console")
    w("rule run_test")
    w("  command = $env $in $args")
    w("  description = TEST $in")
    w("  pool = console")
    w("")

    variant_targets = {}
    for vname, v in VARIANTS.items():
        w(f"# ---- variant {vname}")
        vars_ = f"  cc = {v['cc']}\n  cxx = {v['cxx']}\n  cflags = {v['cflags']}"
        lib_files = write_libs(w, vname, vars_, LIBS)
        jemalloc = JEMALLOC

        def lib_list(names):
            return [lib_files[n] for n in names if n in lib_files]

        bins = []
        for prog, (folder, libs) in PROGRAMS.items():
            srcs = c_sources(folder)
            if not srcs:
                continue
            objs = []
            for src in srcs:
                obj = f"{vname}/obj/{src[:-2]}.o"
                w(f"build {obj}: cc {src}")
                w(vars_)
                objs.append(obj)
            b = f"{vname}/{prog}"
            w(f"build {b}: link {' '.join(objs + lib_list(libs))}")
            w(f"  cc = {v['cc']}\n  ldflags = {v['ldflags']}\n  libs = {jemalloc}")
            bins.append(b)
        cxx_objs = set()
        for prog, (cfolder, xxfolder, libs) in CXX_PROGRAMS.items():
            csrcs = c_sources(cfolder)
            xsrcs = cxx_sources(xxfolder)
            if not csrcs or not xsrcs:
                continue
            objs = []
            for src in csrcs:
                obj = f"{vname}/obj/{src[:-2]}.o"
                w(f"build {obj}: cc {src}")
                w(vars_)
                objs.append(obj)
            for src in xsrcs:
                obj = f"{vname}/obj/{src[:-3]}.o"
                w(f"build {obj}: cxx {src}")
                w(vars_)
                cxx_objs.add(obj)
                objs.append(obj)
            b = f"{vname}/{prog}"
            w(f"build {b}: linkxx {' '.join(objs + lib_list(libs))}")
            w(f"  cxx = {v['cxx']}\n  ldflags = {v['ldflags']}\n  libs = -lbenchmark {jemalloc}")
            bins.append(b)
        plugins = []
        for folder, outdir in PLUGIN_DIRS:
            for src in c_sources(folder):
                so = f"{vname}/{outdir}/{os.path.basename(src)[:-2]}.so"
                w(f"build {so}: plugin {src}")
                w(f"  cc = {v['cc']}\n  cflags = {v['cflags']}\n  ldflags = {v['ldflags']}")
                plugins.append(so)
        bins += [p for p in plugins if "/test/" not in p]
        tests = []
        stamps = []
        seen_objs = set()
        for tname, folder, libs, prefix in TEST_DIRS:
            srcs = test_sources(folder, prefix)
            if not srcs:
                continue
            objs = []
            for src in srcs + TEST_SHARED_SOURCES.get(tname, []):
                obj = f"{vname}/obj/{src[:-2]}.o"
                if obj not in seen_objs:       # a shared source is built once
                    w(f"build {obj}: cc {src}")
                    w(vars_)
                    seen_objs.add(obj)
                objs.append(obj)
            # TSan-only fix for Criterion's arena (see the file).
            src = "core/test/sanitizers/criterion_sanitizers.c"
            obj = f"{vname}/obj/{src[:-2]}.o"
            if obj not in seen_objs:
                w(f"build {obj}: cc {src}")
                w(vars_)
                seen_objs.add(obj)
            objs.append(obj)
            extra = []
            if tname == "gbench":
                # The wrapper's own test links the C++ shim.
                for src in cxx_sources("bench/gbench"):
                    obj = f"{vname}/obj/{src[:-3]}.o"
                    if obj not in seen_objs and obj not in cxx_objs:
                        w(f"build {obj}: cxx {src}")
                        w(vars_)
                        seen_objs.add(obj)
                    extra.append(obj)
            b = f"{vname}/test/{tname}-test"
            rule = "linkxx" if extra else "link"
            w(f"build {b}: {rule} {' '.join(objs + extra + lib_list(libs))}")
            blibs = ("-lcriterion " + ("-lbenchmark " if extra else "") +
                     ("-lpq " if tname == "reports" else "") + jemalloc)
            w(f"  cc = {v['cc']}\n  cxx = {v['cxx']}\n  ldflags = {v['ldflags']}\n  libs = {blibs}")
            tests.append(b)
            stamp = f"{vname}/test/{tname}.passed"
            needs = ""
            if tname == "cli":
                needs = f" | {vname}/pendbench " + " ".join(plugins)
            elif tname == "micro":
                needs = f" | {vname}/pendbench-micro " + " ".join(plugins)
            w(f"build {stamp}: run_test {b}{needs}")
            w("  args = --jobs=2 --timeout 600")
            if vname == "build-tsan":
                # A report fails the test (by default TSan only prints).
                w("  env = TSAN_OPTIONS=halt_on_error=1")
            stamps.append(stamp)
        variant_targets[vname] = (bins, tests, stamps)
        w("")

    write_fuzz(w)

    rb, rt, rs = variant_targets["build"]
    w(f"build all: phony {' '.join(rb + rt)}")
    w(f"build test: phony {' '.join(rs)}")
    for vname, short in (("build-asan", "asan"), ("build-tsan", "tsan"),
                         ("build-clang", "clang")):
        b, t, s = variant_targets[vname]
        # clang runs no tests: its warnings in the program, the micro
        # suite and the plugins are what it checks (the tests' objects
        # were half of its compile time, a minute and more of CI's).
        w(f"build {short}: phony {' '.join(b if short == 'clang' else b + t)}")
        if short != "clang":
            w(f"build test-{short}: phony {' '.join(s)}")
    w("build check: phony all test test-asan test-tsan clang fuzz")
    w("default all")
    with open(os.path.join(ROOT, "build.ninja"), "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    sys.exit(main())
