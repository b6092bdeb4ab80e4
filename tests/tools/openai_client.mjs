// The real `openai` npm client against `moestream serve` (argv: base URL, API key). Every
// check prints one line; any failure exits 1. Random weights: the words are noise, the
// protocol is what is checked.
import OpenAI from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60000 });
let failures = 0;
const check = (name, ok, detail = "") => {
  console.log(`${ok ? "ok" : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
  if (!ok) failures++;
};
const user = (content) => [{ role: "user", content }];

const models = await client.models.list();
const ids = models.data.map((m) => m.id);
check("models list", ids.includes("deepseek-chat") && ids.includes("deepseek-reasoner"), ids.join(","));

const plain = await client.chat.completions.create({ model: "deepseek-chat", messages: user("Hello"), max_tokens: 6 });
check("plain completion", plain.object === "chat.completion" && plain.choices[0].finish_reason === "length" &&
      plain.usage.completion_tokens === 6 &&
      plain.usage.prompt_tokens === plain.usage.prompt_cache_hit_tokens + plain.usage.prompt_cache_miss_tokens);

const stream = await client.chat.completions.create({
  model: "deepseek-chat", messages: user("Stream please"), max_tokens: 5, stream: true,
  stream_options: { include_usage: true },
});
let text = "", chunks = 0, usage = null, finish = null;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  if (chunk.choices.length) {
    text += chunk.choices[0].delta.content ?? "";
    finish = chunk.choices[0].finish_reason ?? finish;
  }
}
check("streaming with usage", chunks >= 3 && usage?.completion_tokens === 5 && finish === "length", `${chunks} chunks`);

const reasoner = await client.chat.completions.create({
  model: "deepseek-reasoner", messages: user("Think first"), max_tokens: 6, stream: true,
});
let reasoning = "";
for await (const chunk of reasoner) reasoning += chunk.choices[0]?.delta?.reasoning_content ?? "";
check("reasoning streamed as reasoning_content", reasoning.length > 0);

// A tool round trip: the client sends the assistant's tool call and the tool's answer back.
const tools = [{ type: "function", function: { name: "get_weather", description: "Weather of a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
const withTools = await client.chat.completions.create({
  model: "deepseek-chat", messages: user("Weather in Paris?"), tools, max_tokens: 5 });
check("tools accepted", ["stop", "length", "tool_calls"].includes(withTools.choices[0].finish_reason));
const roundTrip = await client.chat.completions.create({
  model: "deepseek-chat", tools, max_tokens: 5,
  messages: [
    ...user("Weather in Paris?"),
    { role: "assistant", content: null, reasoning_content: "I should call the tool.",
      tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } }] },
    { role: "tool", tool_call_id: "call_1", content: '{"temperature": 21}' },
  ],
});
check("tool round trip (and reasoning_content sent back is accepted)", roundTrip.choices[0].message.role === "assistant");

const prefix = await client.chat.completions.create({
  model: "deepseek-chat", max_tokens: 4,
  messages: [...user("Write code"), { role: "assistant", content: "```python\n", prefix: true }],
});
check("prefix completion", typeof prefix.choices[0].message.content === "string");

const fim = await client.completions.create({ model: "deepseek-chat", prompt: "def add(a, b):", suffix: "    return c", max_tokens: 4 });
check("fill in the middle", fim.object === "text_completion" && typeof fim.choices[0].text === "string");

const lp = await client.chat.completions.create({
  model: "deepseek-chat", messages: user("Hi"), max_tokens: 3, logprobs: true, top_logprobs: 2 });
const content = lp.choices[0].logprobs?.content ?? [];
check("logprobs", content.length === 3 && content.every((t) => t.logprob <= 0 && t.top_logprobs.length === 2));

const schema = { type: "object", properties: { city: { type: "string", maxLength: 12 },
  population: { type: "integer", minimum: 0 } }, required: ["city", "population"], additionalProperties: false };
const structured = await client.chat.completions.create({
  model: "deepseek-chat", messages: user("A city as JSON"), max_tokens: 80, temperature: 1, seed: 3,
  response_format: { type: "json_schema", json_schema: { name: "city", schema, strict: true } } });
let parsed = null;
try { parsed = JSON.parse(structured.choices[0].message.content); } catch { /* checked below */ }
check("response_format json_schema", parsed !== null && typeof parsed.city === "string" &&
  Number.isInteger(parsed.population) && Object.keys(parsed).length === 2, structured.choices[0].message.content);
const jsonStream = await client.chat.completions.create({
  model: "deepseek-chat", messages: user("JSON please"), max_tokens: 40, temperature: 1, stream: true,
  response_format: { type: "json_object" } });
let streamedJson = "";
for await (const chunk of jsonStream) streamedJson += chunk.choices[0]?.delta?.content ?? "";
let streamedObject = null;
try { streamedObject = JSON.parse(streamedJson); } catch { /* checked below */ }
check("response_format json_object, streamed", streamedObject !== null && typeof streamedObject === "object" &&
  !Array.isArray(streamedObject), streamedJson);
const jsonCompletion = await client.completions.create({ model: "deepseek-chat", prompt: "A JSON object:",
  max_tokens: 40, temperature: 1, response_format: { type: "json_object" } });
let completedObject = null;
try { completedObject = JSON.parse(jsonCompletion.choices[0].text); } catch { /* checked below */ }
check("completions with response_format json_object", completedObject !== null && typeof completedObject === "object",
  jsonCompletion.choices[0].text);
try {
  await client.chat.completions.create({ model: "deepseek-chat", messages: user("x"), max_tokens: 4,
    response_format: { type: "json_schema", json_schema: { name: "bad", schema: { type: "integer", multipleOf: 3 } } } });
  check("unsupported schema keyword refused", false, "no error");
} catch (e) {
  check("unsupported schema keyword refused", e.status === 422 && String(e.message).includes("multipleOf"), String(e.message));
}

try {
  await new OpenAI({ baseURL, apiKey: "wrong", maxRetries: 0 }).models.list();
  check("wrong key refused", false, "no error");
} catch (e) {
  check("wrong key refused", e.status === 401, String(e.status));
}
process.exit(failures ? 1 : 0);
