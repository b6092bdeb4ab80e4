/* chat_loop.c: a conversation that remembers its turns. Reads one message per line from stdin;
 * a line "/think" or "/no_think" switches DeepSeek-V3.1's thinking mode for the next answers.
 * Earlier turns are not recomputed: the engine's prefix cache keeps their KV.
 *
 *   printf 'Hello\n/think\nWhy?\n' | ./example_chat_loop MODEL.mst
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <moestream/moestream.h>

#define MAX_TURNS 64

static int print_piece(void* user_data, int32_t token, const char* text, size_t len) {
  (void)user_data;
  (void)token;
  fwrite(text, 1, len, stdout);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.mst < messages.txt\n", argv[0]);
    return 2;
  }
  moestream_engine_options options;
  moestream_engine_options_init(&options);
  options.max_sequences = 1; /* one conversation */
  moestream_engine* engine = NULL;
  if (moestream_engine_open(argv[1], &options, &engine) != MOESTREAM_OK) {
    fprintf(stderr, "cannot open %s: %s\n", argv[1], moestream_last_error());
    return 1;
  }
  moestream_message turns[MAX_TURNS];
  char* owned[MAX_TURNS]; /* the text of every turn, freed at the end */
  size_t count = 0;
  int thinking = 0;
  char line[4096];
  while (count + 2 <= MAX_TURNS && fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, "/think") == 0 || strcmp(line, "/no_think") == 0) {
      thinking = strcmp(line, "/think") == 0;
      printf("(thinking %s)\n", thinking ? "on" : "off");
      continue;
    }
    owned[count] = strdup(line);
    turns[count].role = "user";
    turns[count].content = owned[count];
    count++;

    moestream_generate_options gen;
    moestream_generate_options_init(&gen);
    gen.max_tokens = 32;
    gen.thinking = thinking;
    gen.on_token = print_piece;
    moestream_request* request = NULL;
    moestream_result result;
    moestream_result_init(&result);
    if (moestream_submit_chat(engine, turns, count, &gen, &request) != MOESTREAM_OK ||
        moestream_request_wait(request, &result) != MOESTREAM_OK) {
      fprintf(stderr, "\nerror: %s\n", moestream_last_error());
      moestream_request_free(request);
      break;
    }
    /* The answer becomes the assistant's turn (the library owns the text until free). */
    owned[count] = strdup(moestream_request_text(request));
    turns[count].role = "assistant";
    turns[count].content = owned[count];
    count++;
    moestream_request_free(request);
    printf("\n[turn %zu: %lld tokens, %lld of %lld prompt tokens reused]\n", count / 2,
           (long long)result.completion_tokens, (long long)result.prompt_cache_hit_tokens,
           (long long)result.prompt_tokens);
  }
  for (size_t i = 0; i < count; ++i) free(owned[i]);
  moestream_engine_close(engine);
  return 0;
}
