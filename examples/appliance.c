/* appliance.c: moestream inside a device with a fixed memory budget. Reads prompts from stdin,
 * one per line, answers each, prints the expert-cache statistics, and exits cleanly on EOF or
 * SIGTERM (the answer in progress is cancelled, the engine closed). Logs go through our own
 * callback with a prefix, as a device's logger would take them.
 *
 *   ./example_appliance MODEL.mst BUDGET_MB < prompts.txt
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <moestream/moestream.h>

static volatile sig_atomic_t g_stop = 0;
static void on_sigterm(int signal_number) { (void)signal_number; g_stop = 1; }

static void log_line(void* user_data, int level, const char* message) {
  fprintf(stderr, "[%s %s] %s\n", (const char*)user_data, level == MOESTREAM_LOG_WARNING ? "warn" : "info", message);
}

/* Stops the answer when SIGTERM arrived: a non-zero return cancels the request. */
static int print_piece(void* user_data, int32_t token, const char* text, size_t len) {
  (void)user_data;
  (void)token;
  fwrite(text, 1, len, stdout);
  return g_stop;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.mst BUDGET_MB < prompts.txt\n", argv[0]);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigterm;
  sigaction(SIGTERM, &sa, NULL);

  moestream_engine_options options;
  moestream_engine_options_init(&options);
  options.ram_budget_bytes = strtoull(argv[2], NULL, 10) << 20; /* the whole process stays under it */
  options.max_sequences = 1;
  options.max_context = 1024;
  options.log = log_line;
  options.log_user_data = "moestream";
  moestream_engine* engine = NULL;
  if (moestream_engine_open(argv[1], &options, &engine) != MOESTREAM_OK) {
    fprintf(stderr, "cannot open %s: %s\n", argv[1], moestream_last_error());
    return 1;
  }
  char line[4096];
  int answered = 0;
  while (!g_stop && fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '\0') continue;
    moestream_message prompt = {"user", line};
    moestream_generate_options gen;
    moestream_generate_options_init(&gen);
    gen.max_tokens = 24;
    gen.on_token = print_piece;
    moestream_result result;
    moestream_result_init(&result);
    moestream_status status = moestream_chat(engine, &prompt, 1, &gen, &result);
    printf("\n");
    if (status != MOESTREAM_OK && status != MOESTREAM_ERR_CANCELLED) {
      fprintf(stderr, "error: %s\n", moestream_last_error());
      continue;
    }
    answered++;
  }
  moestream_engine_stats stats;
  moestream_engine_stats_init(&stats);
  if (moestream_engine_get_stats(engine, &stats) == MOESTREAM_OK) {
    const double accesses = (double)(stats.expert_hits + stats.expert_misses);
    printf("answered %d prompts; %llu tokens; expert cache: %llu hits, %llu misses (%.1f%%), %.1f MB read\n",
           answered, (unsigned long long)stats.generated_tokens, (unsigned long long)stats.expert_hits,
           (unsigned long long)stats.expert_misses, accesses > 0 ? 100.0 * stats.expert_hits / accesses : 0.0,
           stats.expert_bytes_read / 1e6);
  }
  moestream_engine_close(engine);
  return 0;
}
