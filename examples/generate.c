/* generate.c: the smallest use of the moestream C API. Opens a model, asks one question,
 * prints the answer as it streams, then the usage figures.
 *
 *   ./example_generate MODEL.mst "Why is the sky blue?" [RAM_BUDGET_MB]
 */
#include <stdio.h>
#include <stdlib.h>

#include <moestream/moestream.h>

/* Called for every piece of the answer while it is generated. Return 0 to go on. */
static int print_piece(void* user_data, int32_t token, const char* text, size_t len) {
  (void)user_data;
  (void)token;
  fwrite(text, 1, len, stdout);
  fflush(stdout);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.mst QUESTION [RAM_BUDGET_MB]\n", argv[0]);
    return 2;
  }
  /* Options structs are filled with defaults first, then changed where needed. */
  moestream_engine_options options;
  moestream_engine_options_init(&options);
  if (argc > 3) options.ram_budget_bytes = strtoull(argv[3], NULL, 10) << 20; /* stream experts */

  moestream_engine* engine = NULL;
  if (moestream_engine_open(argv[1], &options, &engine) != MOESTREAM_OK) {
    fprintf(stderr, "cannot open %s: %s\n", argv[1], moestream_last_error());
    return 1;
  }

  moestream_message question = {"user", argv[2]};
  moestream_generate_options gen;
  moestream_generate_options_init(&gen);
  gen.max_tokens = 48;
  gen.on_token = print_piece; /* stream the answer */

  moestream_result result;
  moestream_result_init(&result);
  moestream_status status = moestream_chat(engine, &question, 1, &gen, &result);
  printf("\n");
  if (status != MOESTREAM_OK) {
    fprintf(stderr, "error: %s\n", moestream_last_error());
  } else {
    printf("[%lld prompt tokens, %lld generated, %.1f tok/s, expert hits %.0f, misses %.0f]\n",
           (long long)result.prompt_tokens, (long long)result.completion_tokens, result.tokens_per_second,
           result.expert_hits, result.expert_misses);
  }
  moestream_engine_close(engine);
  return status == MOESTREAM_OK ? 0 : 1;
}
