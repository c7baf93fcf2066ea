/* The result-file reader (pb_result_read_string), then what the verbs do
 * with a document it accepts: export as CSV and Google Benchmark JSON,
 * and compare it with itself. */
#include "fuzz_common.h"
#include "pb_compare.h"
#include "pb_export.h"
#include "pb_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    struct pb_result_doc doc;
    char err[2048] = "";
    if (pb_result_read_string(text, "fuzz.json", &doc, err, sizeof err) != 0) {
        if (!err[0])
            abort();
        pb_result_doc_free(&doc);
        free(text);
        return 0;
    }
    FILE *null = fopen("/dev/null", "w");
    if (!null)
        abort();
    struct pb_export_options all = { .aggregates_only = false }, agg = { .aggregates_only = true };
    (void)pb_export_doc_opts(null, PB_EXPORT_CSV, &doc, &all, err, sizeof err);
    (void)pb_export_doc_opts(null, PB_EXPORT_GBENCH, &doc, &all, err, sizeof err);
    (void)pb_export_doc_opts(null, PB_EXPORT_GBENCH, &doc, &agg, err, sizeof err);
    struct pb_compare_opts opts;
    pb_compare_opts_default(&opts);
    struct pb_comparison c;
    if (pb_compare_docs(&doc, &doc, &opts, &c, err, sizeof err) == 0) {
        pb_compare_print(null, &c, "base", &doc.ctx, "new", &doc.ctx);
        (void)pb_compare_print_json(null, &c, "base", &doc.ctx, "new", &doc.ctx);
        pb_comparison_free(&c);
    }
    fclose(null);
    pb_result_doc_free(&doc);
    free(text);
    return 0;
}
