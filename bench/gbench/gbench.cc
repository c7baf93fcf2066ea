// gbench.cc: the C++ side of gbench.h, a C API over Google Benchmark 1.7.x.
//
// Everything Google Benchmark would turn into an abort (its BM_CHECKs:
// arity mismatches, MinTime with Iterations, PauseTiming twice, a function
// that returns before its loop ended, ...) is checked here first and turned
// into a "gbench:" line on stderr plus a no-op, or, while running, into a
// failed run (SkipWithError) with that message.
#include "gbench.h"

#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

// Library flags used here as the library holds them: 1.7.x declares them in
// its commandlineflags.h (BM_DECLARE_*), which it does not install, and
// exports them.
namespace benchmark {
extern bool FLAGS_benchmark_list_tests;
extern std::string FLAGS_benchmark_out;
}  // namespace benchmark

namespace {

void gb_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

void gb_error(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "gbench: %s\n", buf);
}

}  // namespace

struct gb_benchmark {
  benchmark::internal::Benchmark* bm = nullptr;
  gb_fn fn = nullptr;
  void* arg = nullptr;
  std::string name;
  // Batch size for gb_keep_running_batch: 0 = adaptive.
  benchmark::IterationCount batch = 0;
  bool uniform = false;
  // Mirror of benchmark::internal::Benchmark::ArgsCnt(): -1 = not fixed yet.
  int arity = -1;
  bool has_values = false;  // any Arg/Args/Range added
  bool has_min_time = false;
  bool has_warmup = false;
  bool has_iterations = false;
};

struct gb_state {
  benchmark::State* st;
  const gb_benchmark* b;
  bool started;  // a gb_keep_running*() call returned true
  bool done;     // a gb_keep_running*() call returned false
  bool paused;   // gb_pause_timing() without gb_resume_timing()
  bool warned;   // one misuse message per state is enough
};

namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::vector<std::unique_ptr<gb_benchmark>>& registry() {
  static std::vector<std::unique_ptr<gb_benchmark>> r;
  return r;
}

const char* bname(const gb_benchmark* b) { return b->name.c_str(); }

void state_misuse(gb_state* s, const char* what) {
  if (s->warned) return;
  s->warned = true;
  gb_error("%s: %s (ignored; reported once per run and thread)",
           bname(s->b), what);
}

benchmark::IterationCount cap_of(const gb_benchmark* b) {
  return b->batch > 0 ? b->batch
                      : static_cast<benchmark::IterationCount>(
                            GB_BATCH_ADAPTIVE_MAX);
}

void run_c_benchmark(const gb_benchmark* b, benchmark::State& st) {
  gb_state s{&st, b, false, false, false, false};
  b->fn(&s);
  if (s.done) return;
  // Google Benchmark CHECK-fails (aborts) if the function returns before
  // KeepRunning() returned false, unless an error was reported. Report one,
  // then finish the loop so the start/stop barriers of threaded runs match.
  if (!st.error_occurred()) {
    gb_error("%s: the benchmark function returned before "
             "gb_keep_running()/gb_keep_running_batch() returned false",
             bname(b));
    st.SkipWithError(
        "gbench: benchmark function returned before its loop ended");
  }
  while (st.KeepRunning()) {
  }
}

gb_benchmark* register_impl(const char* name, gb_fn fn, void* arg) {
  if (name == nullptr || name[0] == '\0') {
    gb_error("gb_register: %s benchmark name", name ? "empty" : "NULL");
    return nullptr;
  }
  if (fn == nullptr) {
    gb_error("gb_register(\"%s\"): NULL function", name);
    return nullptr;
  }
  try {
    std::unique_ptr<gb_benchmark> b(new gb_benchmark);
    b->fn = fn;
    b->arg = arg;
    b->name = name;
    const gb_benchmark* raw = b.get();
    b->bm = benchmark::RegisterBenchmark(
        name, [raw](benchmark::State& st) { run_c_benchmark(raw, st); });
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry().push_back(std::move(b));
    return registry().back().get();
  } catch (const std::exception& e) {
    gb_error("gb_register(\"%s\"): %s", name, e.what());
    return nullptr;
  }
}

// Checks that adding instances with n arguments keeps the arity uniform.
bool arity_ok(gb_benchmark* b, const char* fn, int n) {
  if (b->arity == -1 || b->arity == n) return true;
  gb_error("%s(%s): %d argument(s) per instance, but the benchmark already "
           "has %d",
           fn, bname(b), n, b->arity);
  return false;
}

void added_values(gb_benchmark* b, int n) {
  b->arity = n;
  b->has_values = true;
}

template <class F>
gb_benchmark* guarded(gb_benchmark* b, const char* fn, F&& f) {
  if (b == nullptr) return nullptr;  // chain after a failed gb_register
  try {
    f();
  } catch (const std::exception& e) {
    gb_error("%s(%s): %s", fn, bname(b), e.what());
  }
  return b;
}

bool range_ok(gb_benchmark* b, const char* fn, int64_t lo, int64_t hi) {
  if (lo < 0 || hi < lo) {
    gb_error("%s(%s): needs 0 <= lo <= hi, got lo=%" PRId64 " hi=%" PRId64,
             fn, bname(b), lo, hi);
    return false;
  }
  return true;
}

bool iterations_conflict(gb_benchmark* b, const char* fn) {
  if (b->has_iterations) {
    gb_error("%s(%s): not with gb_set_iterations()", fn, bname(b));
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// The command line, as Google Benchmark 1.7.x will take it

// A flag's value as the library will use it: its last --NAME=VALUE in argv
// (each one overrides the one before), else the environment variable
// BENCHMARK_NAME it read at start-up. shown says which, for messages.
struct flag_value {
  const char* value = nullptr;  // neither given
  std::string shown;
};

flag_value flag_of(int argc, char** argv, const char* name) {
  flag_value f;
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; i++) {
    if (argv[i] != nullptr &&
        std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      f.value = argv[i] + prefix.size();
      f.shown = argv[i];
    }
  }
  if (f.value == nullptr) {
    std::string var(name);
    for (char& c : var)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const char* v = std::getenv(var.c_str());
    if (v != nullptr) {
      f.value = v;
      f.shown = var + "=" + v + " (environment)";
    }
  }
  return f;
}

// The display reporter of a run that ends before its first benchmark:
// RunSpecifiedBenchmarks with it selects what a run would select (saying why
// it cannot on the reporter's error stream), then ReportContext's false ends
// the run: nothing runs, nothing is printed.
class select_only : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return false; }
  void ReportRuns(const std::vector<Run>&) override {}
};

// --benchmark_repetitions: the library takes any 32-bit number; 0 then
// measures nothing and a negative count throws from vector::reserve.
bool check_repetitions(const char* prog, int argc, char** argv) {
  flag_value f = flag_of(argc, argv, "benchmark_repetitions");
  if (f.value == nullptr) return true;
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(f.value, &end, 10);
  if (end != f.value && *end == '\0' && errno == 0 && n >= 1 &&
      n <= std::numeric_limits<int32_t>::max())
    return true;
  std::fprintf(stderr,
               "%s: %s: --benchmark_repetitions must be a whole number, 1 or "
               "more (at most %" PRId32 ")\n",
               prog, f.shown.c_str(), std::numeric_limits<int32_t>::max());
  return false;
}

// --benchmark_min_time, --benchmark_min_warmup_time: the library takes any
// double, "nan" (a run of a billion iterations), inf, 0 and negative seconds
// included (a negative warm-up is none, without a word); from the
// environment, a value it cannot read is the default after a warning; and
// on the command line it refuses "0.5s" (a later version's syntax) as an
// unknown flag, which misleads. A warm-up may be 0 (none, the default); a
// measuring time may not.
bool check_seconds(const char* prog, int argc, char** argv, const char* name,
                   bool zero_ok) {
  flag_value f = flag_of(argc, argv, name);
  if (f.value == nullptr) return true;
  char* end = nullptr;
  errno = 0;
  double t = std::strtod(f.value, &end);
  if (end != f.value && *end == '\0' && errno == 0 && std::isfinite(t) &&
      (t > 0 || (zero_ok && t == 0)))
    return true;
  std::fprintf(stderr,
               "%s: %s: --%s must be a number of seconds %s, written as a "
               "plain number such as 0.5 (this Google Benchmark takes no 's' "
               "or 'x' suffix)\n",
               prog, f.shown.c_str(), name,
               zero_ok ? "0 or more" : "greater than 0");
  return false;
}

bool check_min_times(const char* prog, int argc, char** argv) {
  return check_seconds(prog, argc, argv, "benchmark_min_time", false) &&
         check_seconds(prog, argc, argv, "benchmark_min_warmup_time", true);
}

// The words the library reads as a yes or a no, in any case. It reads every
// other value, an empty one and a typo included, as a yes (IsTruthyFlagValue:
// --benchmark_list_tests=nope lists instead of running).
bool is_yes_or_no(const char* v) {
  static const char* const words[] = {"true", "false", "yes", "no",
                                      "on",   "off",   "1",   "0"};
  for (const char* w : words)
    if (strcasecmp(v, w) == 0) return true;
  return false;
}

// The library's yes/no flags, and --benchmark_color, which is "auto" or one
// of those (an empty one prints the help and exits with 0; "AUTO" or a typo
// forces colours).
bool check_yes_no(const char* prog, int argc, char** argv) {
  static const char* const names[] = {
      "benchmark_list_tests", "benchmark_enable_random_interleaving",
      "benchmark_report_aggregates_only", "benchmark_display_aggregates_only",
      "benchmark_counters_tabular"};
  for (const char* name : names) {
    flag_value f = flag_of(argc, argv, name);
    if (f.value == nullptr || is_yes_or_no(f.value)) continue;
    std::fprintf(stderr,
                 "%s: %s: --%s must be true or false (or yes/no, on/off, "
                 "1/0)\n",
                 prog, f.shown.c_str(), name);
    return false;
  }
  flag_value f = flag_of(argc, argv, "benchmark_color");
  if (f.value == nullptr || std::strcmp(f.value, "auto") == 0 ||
      is_yes_or_no(f.value))
    return true;
  std::fprintf(stderr,
               "%s: %s: --benchmark_color must be auto, true or false (or "
               "yes/no, on/off, 1/0)\n",
               prog, f.shown.c_str());
  return false;
}

// --benchmark_context: comma-separated KEY=VALUE pairs, each key once. The
// library refuses anything else on the command line as an unknown flag,
// which misleads, and from the environment drops the whole context after a
// warning.
bool check_context(const char* prog, int argc, char** argv) {
  flag_value f = flag_of(argc, argv, "benchmark_context");
  if (f.value == nullptr || f.value[0] == '\0') return true;
  std::vector<std::string> keys;
  std::string pairs(f.value);
  size_t start = 0;
  for (;;) {
    size_t comma = pairs.find(',', start);
    std::string pair = pairs.substr(start, comma == std::string::npos
                                               ? std::string::npos
                                               : comma - start);
    size_t eq = pair.find('=');
    if (eq == std::string::npos ||
        pair.find('=', eq + 1) != std::string::npos) {
      std::fprintf(stderr,
                   "%s: %s: --benchmark_context must be comma-separated "
                   "KEY=VALUE pairs\n",
                   prog, f.shown.c_str());
      return false;
    }
    std::string key = pair.substr(0, eq);
    for (const std::string& k : keys) {
      if (k != key) continue;
      std::fprintf(stderr,
                   "%s: %s: --benchmark_context names the key \"%s\" twice\n",
                   prog, f.shown.c_str(), key.c_str());
      return false;
    }
    keys.push_back(key);
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

// --benchmark_perf_counters: a library built without libpfm (Debian's)
// measures without the counters asked for, after a line that does not end
// its run. libpfm, linked in or loaded with it, is found by its entry point.
bool check_perf_counters(const char* prog, int argc, char** argv) {
  flag_value f = flag_of(argc, argv, "benchmark_perf_counters");
  if (f.value == nullptr || f.value[0] == '\0' ||
      dlsym(RTLD_DEFAULT, "pfm_initialize") != nullptr)
    return true;
  std::fprintf(stderr,
               "%s: %s: this Google Benchmark was built without performance "
               "counters (libpfm): it would measure without them\n",
               prog, f.shown.c_str());
  return false;
}

// --benchmark_format, --benchmark_out_format, --benchmark_time_unit: the
// library answers a value it does not know (a typo, "JSON") with its help
// text and exit status 0, as if the help had been asked for.
bool check_choice(const char* prog, int argc, char** argv, const char* name,
                  const std::vector<std::string>& choices, const char* said) {
  flag_value f = flag_of(argc, argv, name);
  if (f.value == nullptr) return true;
  for (const std::string& c : choices)
    if (c == f.value) return true;
  std::fprintf(stderr, "%s: %s: --%s must be %s\n", prog, f.shown.c_str(),
               name, said);
  return false;
}

bool check_choices(const char* prog, int argc, char** argv) {
  const std::vector<std::string> formats = {"console", "json", "csv"};
  return check_choice(prog, argc, argv, "benchmark_format", formats,
                      "console, json or csv") &&
         check_choice(prog, argc, argv, "benchmark_out_format", formats,
                      "json, console or csv") &&
         check_choice(prog, argc, argv, "benchmark_time_unit",
                      {"ns", "us", "ms", "s", ""}, "ns, us, ms or s");
}

// --benchmark_out: the library opens it only as the run starts and, if it
// cannot, says "invalid file name" and exits with 1, the status of a run
// that failed. Opened here the way the run will, writing nothing: a regular
// file is not emptied, a missing one is created then removed, and anything
// else (a terminal, /dev/stdout, a FIFO) is only checked for permission:
// opening a FIFO would wait for a reader, or end its reader's input.
bool check_out(const char* prog, int argc, char** argv) {
  flag_value f = flag_of(argc, argv, "benchmark_out");
  if (f.value == nullptr || f.value[0] == '\0') return true;  // no file
  const char* path = f.value;
  int e = 0;
  struct stat sb;
  if (::stat(path, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) {
      e = EISDIR;
    } else if (!S_ISREG(sb.st_mode)) {
      if (::access(path, W_OK) != 0) e = errno;
    } else {
      int fd = ::open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
      if (fd >= 0)
        ::close(fd);
      else
        e = errno;
    }
  } else if (errno == ENOENT) {
    int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC,
                    0666);
    if (fd >= 0) {
      ::close(fd);
      ::unlink(path);
    } else if (errno != EEXIST) {  // EEXIST: a dangling link, left to the run
      e = errno;
    }
  } else {
    e = errno;
  }
  if (e == 0) return true;
  std::fprintf(stderr, "%s: %s: cannot write the results there: %s\n", prog,
               f.shown.c_str(), std::strerror(e));
  return false;
}

// Google Benchmark only says "Failed to match any benchmarks" or "Could not
// compile benchmark re" and runs nothing, exit status 0: a typo in a filter
// looks like a finished run. Its own selection, without a run, tells both.
bool check_filter(const char* prog, int argc, char** argv) {
  flag_value f = flag_of(argc, argv, "benchmark_filter");
  select_only r;
  std::ostringstream out, err;
  r.SetOutputStream(&out);  // the names, with --benchmark_list_tests
  r.SetErrorStream(&err);
  // The selection opens the library's output file first, as a run does
  // (from BENCHMARK_OUT, read when the library loaded, or an earlier
  // gb_initialize): that would empty it and write the selection's
  // complaint there instead of on stderr. So it selects with none, and the
  // file is put back for the run.
  std::string out_file;
  out_file.swap(benchmark::FLAGS_benchmark_out);
  size_t n = 0;
  bool threw = false;
  std::string what;
  try {
    n = benchmark::RunSpecifiedBenchmarks(&r, f.value ? f.value : "");
  } catch (const std::exception& e) {
    threw = true;
    what = e.what();
  }
  out_file.swap(benchmark::FLAGS_benchmark_out);
  if (threw) {
    std::fprintf(stderr, "%s: selecting the benchmarks: %s\n", prog,
                 what.c_str());
    return false;
  }
  if (n > 0) return true;
  if (f.value == nullptr) {
    std::fprintf(stderr, "%s: no benchmark is registered\n", prog);
    return false;
  }
  std::string why = err.str();
  while (!why.empty() && why.back() == '\n') why.pop_back();
  const std::string no_match = "Failed to match any benchmarks";
  const std::string bad_re = "Could not compile benchmark re: ";
  if (why.empty() || why.compare(0, no_match.size(), no_match) == 0) {
    std::fprintf(stderr,
                 "%s: %s selects no benchmark "
                 "(--benchmark_list_tests=true lists them)\n",
                 prog, f.shown.c_str());
  } else {
    if (why.compare(0, bad_re.size(), bad_re) == 0) why.erase(0, bad_re.size());
    std::fprintf(stderr,
                 "%s: %s: not a regular expression Google Benchmark can "
                 "use: %s\n",
                 prog, f.shown.c_str(), why.c_str());
  }
  return false;
}

bool asks_for_help(int argc, char** argv) {
  for (int i = 1; i < argc; i++)  // as the library's IsFlag(.., "help")
    if (argv[i] != nullptr && (std::strcmp(argv[i], "--help") == 0 ||
                               std::strncmp(argv[i], "--help=", 7) == 0))
      return true;
  return false;
}

}  // namespace

extern "C" {

// ---------------------------------------------------------------------------
// Inside the benchmark function

bool gb_keep_running_batch(gb_state* s, uint64_t* n) {
  uint64_t dummy;
  if (n == nullptr) n = &dummy;
  *n = 0;
  if (s == nullptr) {
    gb_error("gb_keep_running_batch: NULL state");
    return false;
  }
  if (s->done) {
    state_misuse(s, "gb_keep_running_batch() called again after it "
                    "returned false");
    return false;
  }
  benchmark::State& st = *s->st;
  if (n == &dummy && !st.error_occurred()) {
    gb_error("%s: gb_keep_running_batch: NULL n", bname(s->b));
    st.SkipWithError("gbench: gb_keep_running_batch called with NULL n");
  }
  if (s->paused) {  // FinishKeepRunning would stop a stopped timer: abort
    if (!st.error_occurred()) st.ResumeTiming();
    s->paused = false;
  }
  benchmark::IterationCount want;
  if (s->b->uniform) {
    want = s->b->batch;
  } else {
    // iterations() is 0 before the loop, else what was handed out so far.
    benchmark::IterationCount left = st.max_iterations - st.iterations();
    want = left < cap_of(s->b) ? left : cap_of(s->b);
    if (want < 1) want = 1;  // the run is over: this call returns false
  }
  if (st.KeepRunningBatch(want)) {
    s->started = true;
    *n = static_cast<uint64_t>(want);
    return true;
  }
  s->done = true;
  return false;
}

bool gb_keep_running(gb_state* s) {
  if (s == nullptr) {
    gb_error("gb_keep_running: NULL state");
    return false;
  }
  if (s->done) {
    state_misuse(s, "gb_keep_running() called again after it returned false");
    return false;
  }
  benchmark::State& st = *s->st;
  if (s->paused) {
    if (!st.error_occurred()) st.ResumeTiming();
    s->paused = false;
  }
  if (st.KeepRunning()) {
    s->started = true;
    return true;
  }
  s->done = true;
  return false;
}

uint64_t gb_max_batch(const gb_state* s) {
  if (s == nullptr) return 0;
  if (s->b->uniform) return static_cast<uint64_t>(s->b->batch);
  benchmark::IterationCount c = cap_of(s->b);
  benchmark::IterationCount m = s->st->max_iterations;
  return static_cast<uint64_t>(m < c ? m : c);
}

uint64_t gb_max_iterations(const gb_state* s) {
  return s ? static_cast<uint64_t>(s->st->max_iterations) : 0;
}

uint64_t gb_iterations(const gb_state* s) {
  return s ? static_cast<uint64_t>(s->st->iterations()) : 0;
}

size_t gb_range_count(const gb_state* s) {
  if (s == nullptr || !s->b->has_values) return 0;
  return static_cast<size_t>(s->b->arity);
}

int64_t gb_range(const gb_state* s, size_t i) {
  if (s == nullptr) {
    gb_error("gb_range: NULL state");
    return 0;
  }
  size_t count = gb_range_count(s);
  if (i >= count) {
    gb_error("%s: gb_range(%zu): the instance has %zu argument(s)",
             bname(s->b), i, count);
    return 0;
  }
  return s->st->range(i);
}

int gb_thread_index(const gb_state* s) { return s ? s->st->thread_index() : 0; }

int gb_threads(const gb_state* s) { return s ? s->st->threads() : 1; }

void* gb_user_arg(const gb_state* s) { return s ? s->b->arg : nullptr; }

void gb_pause_timing(gb_state* s) {
  if (s == nullptr) return;
  if (!s->started || s->done) {
    state_misuse(s, "gb_pause_timing() outside the gb_keep_running loop");
    return;
  }
  if (s->st->error_occurred()) return;
  if (s->paused) {
    state_misuse(s, "gb_pause_timing() while already paused");
    return;
  }
  s->st->PauseTiming();
  s->paused = true;
}

void gb_resume_timing(gb_state* s) {
  if (s == nullptr) return;
  if (!s->started || s->done) {
    state_misuse(s, "gb_resume_timing() outside the gb_keep_running loop");
    return;
  }
  if (s->st->error_occurred()) return;
  if (!s->paused) {
    state_misuse(s, "gb_resume_timing() while not paused");
    return;
  }
  s->st->ResumeTiming();
  s->paused = false;
}

void gb_set_items_processed(gb_state* s, int64_t items) {
  if (s) s->st->SetItemsProcessed(items);
}

void gb_set_bytes_processed(gb_state* s, int64_t bytes) {
  if (s) s->st->SetBytesProcessed(bytes);
}

void gb_set_label(gb_state* s, const char* label) {
  if (s == nullptr) return;
  try {
    s->st->SetLabel(label ? label : "");
  } catch (const std::exception& e) {
    gb_error("%s: gb_set_label: %s", bname(s->b), e.what());
  }
}

void gb_skip_with_error(gb_state* s, const char* msg) {
  if (s == nullptr) return;
  if (s->st->error_occurred()) return;  // the first message is the one kept
  s->st->SkipWithError(msg && msg[0] ? msg : "(no message)");
  s->paused = false;  // SkipWithError stopped the timer if it ran
}

bool gb_error_occurred(const gb_state* s) {
  return s ? s->st->error_occurred() : false;
}

static bool counter_flags(const gb_state* s, const char* fn, const char* name,
                          unsigned flags, benchmark::Counter::Flags* out,
                          benchmark::Counter::OneK* onek) {
  const unsigned known = GB_COUNTER_RATE | GB_COUNTER_AVG_THREADS |
                         GB_COUNTER_ITERATION_INVARIANT |
                         GB_COUNTER_AVG_ITERATIONS | GB_COUNTER_INVERT |
                         GB_COUNTER_BASE_1024;
  if (name == nullptr || name[0] == '\0') {
    gb_error("%s: %s: %s counter name", bname(s->b), fn,
             name ? "empty" : "NULL");
    return false;
  }
  if (flags & ~known) {
    gb_error("%s: %s(\"%s\"): unknown flag bits 0x%x", bname(s->b), fn, name,
             flags & ~known);
    return false;
  }
  int f = benchmark::Counter::kDefaults;
  if (flags & GB_COUNTER_RATE) f |= benchmark::Counter::kIsRate;
  if (flags & GB_COUNTER_AVG_THREADS) f |= benchmark::Counter::kAvgThreads;
  if (flags & GB_COUNTER_ITERATION_INVARIANT)
    f |= benchmark::Counter::kIsIterationInvariant;
  if (flags & GB_COUNTER_AVG_ITERATIONS)
    f |= benchmark::Counter::kAvgIterations;
  if (flags & GB_COUNTER_INVERT) f |= benchmark::Counter::kInvert;
  *out = static_cast<benchmark::Counter::Flags>(f);
  *onek = (flags & GB_COUNTER_BASE_1024) ? benchmark::Counter::kIs1024
                                         : benchmark::Counter::kIs1000;
  return true;
}

void gb_counter_set(gb_state* s, const char* name, double value,
                    unsigned flags) {
  if (s == nullptr) return;
  benchmark::Counter::Flags f;
  benchmark::Counter::OneK k;
  if (!counter_flags(s, "gb_counter_set", name, flags, &f, &k)) return;
  try {
    s->st->counters[name] = benchmark::Counter(value, f, k);
  } catch (const std::exception& e) {
    gb_error("%s: gb_counter_set: %s", bname(s->b), e.what());
  }
}

void gb_counter_add(gb_state* s, const char* name, double delta,
                    unsigned flags) {
  if (s == nullptr) return;
  benchmark::Counter::Flags f;
  benchmark::Counter::OneK k;
  if (!counter_flags(s, "gb_counter_add", name, flags, &f, &k)) return;
  try {
    benchmark::Counter& c = s->st->counters[name];
    c = benchmark::Counter(c.value + delta, f, k);
  } catch (const std::exception& e) {
    gb_error("%s: gb_counter_add: %s", bname(s->b), e.what());
  }
}

// ---------------------------------------------------------------------------
// Registration

gb_benchmark* gb_register(const char* name, gb_fn fn) {
  return register_impl(name, fn, nullptr);
}

gb_benchmark* gb_register_with_arg(const char* name, gb_fn fn, void* arg) {
  return register_impl(name, fn, arg);
}

gb_benchmark* gb_arg(gb_benchmark* b, int64_t v) {
  return guarded(b, "gb_arg", [&] {
    if (!arity_ok(b, "gb_arg", 1)) return;
    b->bm->Arg(v);
    added_values(b, 1);
  });
}

gb_benchmark* gb_args(gb_benchmark* b, const int64_t* v, size_t n) {
  return guarded(b, "gb_args", [&] {
    if (v == nullptr || n == 0 || n > 64) {
      gb_error("gb_args(%s): needs 1..64 values, got %zu%s", bname(b), n,
               v ? "" : " (NULL array)");
      return;
    }
    if (!arity_ok(b, "gb_args", static_cast<int>(n))) return;
    b->bm->Args(std::vector<int64_t>(v, v + n));
    added_values(b, static_cast<int>(n));
  });
}

gb_benchmark* gb_add_range(gb_benchmark* b, int64_t lo, int64_t hi) {
  return guarded(b, "gb_add_range", [&] {
    if (!range_ok(b, "gb_add_range", lo, hi)) return;
    if (!arity_ok(b, "gb_add_range", 1)) return;
    b->bm->Range(lo, hi);
    added_values(b, 1);
  });
}

gb_benchmark* gb_dense_range(gb_benchmark* b, int64_t lo, int64_t hi,
                             int step) {
  return guarded(b, "gb_dense_range", [&] {
    if (!range_ok(b, "gb_dense_range", lo, hi)) return;
    if (step < 1) {
      gb_error("gb_dense_range(%s): step must be >= 1, got %d", bname(b),
               step);
      return;
    }
    if (!arity_ok(b, "gb_dense_range", 1)) return;
    b->bm->DenseRange(lo, hi, step);
    added_values(b, 1);
  });
}

gb_benchmark* gb_ranges(gb_benchmark* b, const int64_t* lo, const int64_t* hi,
                        size_t n) {
  return guarded(b, "gb_ranges", [&] {
    if (lo == nullptr || hi == nullptr || n == 0 || n > 64) {
      gb_error("gb_ranges(%s): needs 1..64 ranges, got %zu%s", bname(b), n,
               (lo && hi) ? "" : " (NULL array)");
      return;
    }
    for (size_t i = 0; i < n; i++)
      if (!range_ok(b, "gb_ranges", lo[i], hi[i])) return;
    if (!arity_ok(b, "gb_ranges", static_cast<int>(n))) return;
    std::vector<std::pair<int64_t, int64_t>> r;
    for (size_t i = 0; i < n; i++) r.emplace_back(lo[i], hi[i]);
    b->bm->Ranges(r);
    added_values(b, static_cast<int>(n));
  });
}

gb_benchmark* gb_range_multiplier(gb_benchmark* b, int mult) {
  return guarded(b, "gb_range_multiplier", [&] {
    if (mult < 2) {
      gb_error("gb_range_multiplier(%s): needs >= 2, got %d", bname(b), mult);
      return;
    }
    b->bm->RangeMultiplier(mult);
  });
}

gb_benchmark* gb_set_arg_names(gb_benchmark* b, const char* const* names,
                               size_t n) {
  return guarded(b, "gb_set_arg_names", [&] {
    if (names == nullptr || n == 0 || n > 64) {
      gb_error("gb_set_arg_names(%s): needs 1..64 names, got %zu%s", bname(b),
               n, names ? "" : " (NULL array)");
      return;
    }
    std::vector<std::string> v;
    for (size_t i = 0; i < n; i++) {
      if (names[i] == nullptr) {
        gb_error("gb_set_arg_names(%s): name %zu is NULL", bname(b), i);
        return;
      }
      v.emplace_back(names[i]);
    }
    if (!arity_ok(b, "gb_set_arg_names", static_cast<int>(n))) return;
    b->bm->ArgNames(v);
    b->arity = static_cast<int>(n);
  });
}

gb_benchmark* gb_set_threads(gb_benchmark* b, int n) {
  return guarded(b, "gb_set_threads", [&] {
    if (n < 1) {
      gb_error("gb_set_threads(%s): needs >= 1, got %d", bname(b), n);
      return;
    }
    b->bm->Threads(n);
  });
}

gb_benchmark* gb_thread_range(gb_benchmark* b, int lo, int hi) {
  return guarded(b, "gb_thread_range", [&] {
    if (lo < 1 || hi < lo) {
      gb_error("gb_thread_range(%s): needs 1 <= lo <= hi, got %d, %d",
               bname(b), lo, hi);
      return;
    }
    b->bm->ThreadRange(lo, hi);
  });
}

gb_benchmark* gb_dense_thread_range(gb_benchmark* b, int lo, int hi,
                                    int stride) {
  return guarded(b, "gb_dense_thread_range", [&] {
    if (lo < 1 || hi < lo || stride < 1) {
      gb_error("gb_dense_thread_range(%s): needs 1 <= lo <= hi and "
               "stride >= 1, got %d, %d, %d",
               bname(b), lo, hi, stride);
      return;
    }
    b->bm->DenseThreadRange(lo, hi, stride);
  });
}

gb_benchmark* gb_thread_per_cpu(gb_benchmark* b) {
  return guarded(b, "gb_thread_per_cpu", [&] { b->bm->ThreadPerCpu(); });
}

gb_benchmark* gb_min_time(gb_benchmark* b, double seconds) {
  return guarded(b, "gb_min_time", [&] {
    if (!(seconds > 0.0) || seconds > 1e9) {  // also rejects NaN
      gb_error("gb_min_time(%s): needs 0 < seconds, got %g", bname(b),
               seconds);
      return;
    }
    if (iterations_conflict(b, "gb_min_time")) return;
    b->bm->MinTime(seconds);
    b->has_min_time = true;
  });
}

gb_benchmark* gb_min_warmup_time(gb_benchmark* b, double seconds) {
  return guarded(b, "gb_min_warmup_time", [&] {
    if (!(seconds >= 0.0) || seconds > 1e9) {
      gb_error("gb_min_warmup_time(%s): needs 0 <= seconds, got %g", bname(b),
               seconds);
      return;
    }
    if (iterations_conflict(b, "gb_min_warmup_time")) return;
    b->bm->MinWarmUpTime(seconds);
    b->has_warmup = seconds > 0.0;
  });
}

gb_benchmark* gb_set_iterations(gb_benchmark* b, uint64_t n) {
  return guarded(b, "gb_set_iterations", [&] {
    if (n < 1 || n > static_cast<uint64_t>(
                         std::numeric_limits<benchmark::IterationCount>::max())) {
      gb_error("gb_set_iterations(%s): needs >= 1, got %" PRIu64, bname(b), n);
      return;
    }
    if (b->has_min_time || b->has_warmup) {
      gb_error("gb_set_iterations(%s): not with gb_min_time() or "
               "gb_min_warmup_time()",
               bname(b));
      return;
    }
    b->bm->Iterations(static_cast<benchmark::IterationCount>(n));
    b->has_iterations = true;
  });
}

gb_benchmark* gb_repetitions(gb_benchmark* b, int n) {
  return guarded(b, "gb_repetitions", [&] {
    if (n < 1) {
      gb_error("gb_repetitions(%s): needs >= 1, got %d", bname(b), n);
      return;
    }
    b->bm->Repetitions(n);
  });
}

gb_benchmark* gb_report_aggregates_only(gb_benchmark* b, bool only) {
  return guarded(b, "gb_report_aggregates_only",
                 [&] { b->bm->ReportAggregatesOnly(only); });
}

gb_benchmark* gb_use_real_time(gb_benchmark* b) {
  return guarded(b, "gb_use_real_time", [&] { b->bm->UseRealTime(); });
}

gb_benchmark* gb_measure_process_cpu_time(gb_benchmark* b) {
  return guarded(b, "gb_measure_process_cpu_time",
                 [&] { b->bm->MeasureProcessCPUTime(); });
}

gb_benchmark* gb_time_unit(gb_benchmark* b, gb_unit unit) {
  // C may pass any int here; in C++ a gb_unit outside 0..3 may not even be
  // loaded (UBSan: -fsanitize=enum), so read its bytes as an int.
  static_assert(sizeof(gb_unit) == sizeof(int), "gb_unit is int-sized");
  int u;
  std::memcpy(&u, &unit, sizeof u);
  return guarded(b, "gb_time_unit", [&] {
    switch (u) {
      case GB_NS: b->bm->Unit(benchmark::kNanosecond); return;
      case GB_US: b->bm->Unit(benchmark::kMicrosecond); return;
      case GB_MS: b->bm->Unit(benchmark::kMillisecond); return;
      case GB_S: b->bm->Unit(benchmark::kSecond); return;
    }
    gb_error("gb_time_unit(%s): unknown unit %d", bname(b), u);
  });
}

static bool batch_ok(gb_benchmark* b, const char* fn, uint64_t n,
                     uint64_t min) {
  if (n < min || n > (uint64_t{1} << 40)) {
    gb_error("%s(%s): needs %" PRIu64 " <= n <= 2^40, got %" PRIu64, fn,
             bname(b), min, n);
    return false;
  }
  return true;
}

gb_benchmark* gb_set_batch(gb_benchmark* b, uint64_t n) {
  return guarded(b, "gb_set_batch", [&] {
    if (!batch_ok(b, "gb_set_batch", n, 0)) return;
    b->batch = static_cast<benchmark::IterationCount>(n);
    b->uniform = false;
  });
}

gb_benchmark* gb_set_batch_uniform(gb_benchmark* b, uint64_t n) {
  return guarded(b, "gb_set_batch_uniform", [&] {
    if (!batch_ok(b, "gb_set_batch_uniform", n, 1)) return;
    b->batch = static_cast<benchmark::IterationCount>(n);
    b->uniform = true;
  });
}

// ---------------------------------------------------------------------------
// Running

void gb_add_custom_context(const char* key, const char* value) {
  if (key == nullptr || key[0] == '\0' || value == nullptr) {
    gb_error("gb_add_custom_context: %s", key == nullptr || key[0] == '\0'
                                              ? "NULL or empty key"
                                              : "NULL value");
    return;
  }
  try {
    benchmark::AddCustomContext(key, value);
  } catch (const std::exception& e) {
    gb_error("gb_add_custom_context(\"%s\"): %s", key, e.what());
  }
}

bool gb_check_flags(int argc, char** argv) {
  if (argv == nullptr || argc < 1) return true;
  const char* prog = argv[0] != nullptr ? argv[0] : "gbench";
  if (asks_for_help(argc, argv)) return true;  // gb_initialize exits with it
  return check_repetitions(prog, argc, argv) &&
         check_min_times(prog, argc, argv) && check_choices(prog, argc, argv) &&
         check_yes_no(prog, argc, argv) && check_context(prog, argc, argv) &&
         check_perf_counters(prog, argc, argv) &&
         check_out(prog, argc, argv) && check_filter(prog, argc, argv);
}

void gb_initialize(int* argc, char** argv) {
  static char prog[] = "gbench";
  static char* fallback[] = {prog, nullptr};
  if (argc == nullptr || argv == nullptr || *argc < 1) {
    int one = 1;
    benchmark::Initialize(&one, fallback);
    if (argc != nullptr && *argc < 0) *argc = 0;
    return;
  }
  benchmark::Initialize(argc, argv);
}

bool gb_report_unrecognized(int argc, char** argv) {
  if (argv == nullptr || argc < 2) return false;
  return benchmark::ReportUnrecognizedArguments(argc, argv);
}

size_t gb_run_benchmarks(const char* filter) {
  try {
    if (filter == nullptr) return benchmark::RunSpecifiedBenchmarks();
    return benchmark::RunSpecifiedBenchmarks(std::string(filter));
  } catch (const std::exception& e) {
    gb_error("gb_run_benchmarks: %s", e.what());
    return 0;
  }
}

void gb_shutdown(void) { benchmark::Shutdown(); }

bool gb_listing_only(void) { return benchmark::FLAGS_benchmark_list_tests; }

int gb_main(int argc, char** argv) {
  if (!gb_check_flags(argc, argv)) {
    gb_shutdown();
    return 2;
  }
  gb_initialize(&argc, argv);
  if (gb_report_unrecognized(argc, argv)) {
    std::fprintf(stderr,
                 "%s: Google Benchmark's flags look like "
                 "--benchmark_filter=REGEX; see --help\n",
                 argv[0]);
    gb_shutdown();
    return 2;
  }
  size_t ran = gb_run_benchmarks(nullptr);
  gb_shutdown();
  return ran > 0 ? 0 : 2;  // what stopped it was said on stderr
}

}  // extern "C"
