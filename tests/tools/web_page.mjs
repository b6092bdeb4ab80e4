// The web chat page in a real browser (Debian's Chromium, headless, via puppeteer-core) against
// `moestream serve`. argv: base URL (http://127.0.0.1:PORT), screenshot directory.
// Prints one line per check; exits 1 on any failure, 3 when Chromium cannot start.
import puppeteer from "puppeteer-core";

const [base, shots] = process.argv.slice(2);
let failures = 0;
const check = (name, ok, detail = "") => {
  console.log(`${ok ? "ok" : "FAIL"} ${name}${detail ? ": " + detail : ""}`);
  if (!ok) failures++;
};
let browser;
try {
  browser = await puppeteer.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
} catch (e) {
  console.log("chromium cannot start: " + e.message);
  process.exit(3);
}
const page = await browser.newPage();
const consoleErrors = [];
page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
page.on("pageerror", (e) => consoleErrors.push(String(e)));
await page.setViewport({ width: 1280, height: 900 });
await page.goto(base + "/", { waitUntil: "load" });
check("page loads", (await page.title()) === "moestream chat");

const lastAssistant = () => page.evaluate(() => {
  const all = document.querySelectorAll(".msg.assistant");
  const m = all[all.length - 1];
  return m ? { content: m.querySelector(".content").textContent, reasoning: m.querySelector(".reasoning-text").textContent,
               reasoningOpen: m.querySelector("details.reasoning").open, html: m.querySelector(".content").innerHTML } : null;
});
const idle = () => page.waitForFunction(() => document.getElementById("stop").disabled, { timeout: 60000 });

// Send a message with Enter; the answer streams (its text grows while generating).
await page.$eval("#max-tokens", (e) => { e.value = "40"; e.dispatchEvent(new Event("change")); });
await page.type("#input", "Hello, who are you?");
await page.keyboard.press("Enter");
await page.waitForFunction(() => document.querySelector(".msg.assistant .content")?.textContent.length > 0, { timeout: 60000 });
const early = (await lastAssistant()).content.length;
await idle();
const final = (await lastAssistant()).content.length;
check("answer streams and grows", final > 0 && final >= early, `${early} -> ${final} chars`);

// Telemetry shows numbers, and they agree with /metrics.
const tele = await page.evaluate(() => ({ tps: document.getElementById("t-tps").textContent,
  hit: document.getElementById("t-expert-hit").textContent, cache: document.getElementById("t-cache-hit").textContent,
  layers: document.querySelectorAll("#layers div").length }));
check("telemetry filled", tele.tps !== "–" && parseFloat(tele.tps) > 0 && tele.hit.endsWith("%") && tele.cache.includes(" of "), JSON.stringify(tele));
const metrics = await (await fetch(base + "/metrics")).text();
const stats = await (await fetch(base + "/v1/moestream/stats")).json();
const generated = Number(/moestream_generated_tokens_total (\d+)/.exec(metrics)[1]);
check("telemetry agrees with /metrics", stats.tokens.generated === generated && generated > 0, `${stats.tokens.generated} vs ${generated}`);

// Thinking mode: the reasoning block opens with text in it.
await page.click("#think");
await page.type("#input", "Think about it");
await page.click("#send");
await idle();
const thought = await lastAssistant();
check("reasoning block in thinking mode", thought.reasoning.length > 0 && thought.reasoningOpen, `${thought.reasoning.length} chars`);
await page.click("#think");

// JSON mode: the answer is one JSON object.
await page.click("#json");
await page.type("#input", "Answer in JSON");
await page.click("#send");
await idle();
// The stored answer (the rendered one is markdown: asterisks in a string would become emphasis).
const jsonAnswer = await page.evaluate(() => {
  const current = JSON.parse(localStorage.getItem("moestream.current"));
  const c = JSON.parse(localStorage.getItem("moestream.conversations")).find((x) => x.id === current);
  return c.messages[c.messages.length - 1].content;
});
let jsonObject = null;
try { jsonObject = JSON.parse(jsonAnswer); } catch { /* checked below */ }
check("JSON mode answers one JSON object", jsonObject !== null && typeof jsonObject === "object" && !Array.isArray(jsonObject), jsonAnswer.slice(0, 200));
await page.click("#json");

// Stop mid-answer: Esc ends the stream early.
await page.$eval("#max-tokens", (e) => { e.value = "2000"; e.dispatchEvent(new Event("change")); });
await page.type("#input", "Tell me a very long story");
await page.keyboard.press("Enter");
await page.waitForFunction(() => (document.querySelector(".msg.assistant:last-of-type .content")?.textContent.length ?? 0) > 20, { timeout: 60000 });
await page.keyboard.press("Escape");
await idle();
const status = await page.$eval("#status", (e) => e.textContent);
check("stop mid-answer", status === "stopped", status);

// Model output is never markup: a stored reply with <script> renders as text.
await page.evaluate(() => {
  const all = JSON.parse(localStorage.getItem("moestream.conversations"));
  all[0].messages.push({ role: "assistant", content: "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned=2\"> **bold** `code`" });
  localStorage.setItem("moestream.conversations", JSON.stringify(all));
});
await page.reload({ waitUntil: "load" });
const injected = await lastAssistant();
const pwned = await page.evaluate(() => window.pwned);
check("model output renders as text", injected.content.includes("<script>") && !injected.html.includes("<script") && !injected.html.includes("<img") && pwned === undefined);
check("markdown still renders", injected.html.includes("<strong>bold</strong>") && injected.html.includes("<code>code</code>"));

// Reload keeps the conversation (local storage).
const count = await page.$$eval(".msg", (n) => n.length);
check("conversation survives a reload", count >= 7, `${count} messages`);

await page.screenshot({ path: shots + "/chat-1280.png" });
await page.setViewport({ width: 360, height: 780 });
await page.screenshot({ path: shots + "/chat-360.png", fullPage: true });
const overflow = await page.evaluate(() => document.documentElement.scrollWidth <= 370);
check("readable at 360 px (no sideways scrolling)", overflow);
check("no console errors", consoleErrors.length === 0, consoleErrors.join(" | "));
await browser.close();
process.exit(failures ? 1 : 0);
