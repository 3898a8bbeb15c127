// aimock-rs/jest under a real jest run (CommonJS, as most jest suites are): useAimock's hooks
// start the server and load the fixtures, point the official openai and @anthropic-ai/sdk
// clients at it through OPENAI_BASE_URL / ANTHROPIC_BASE_URL, start sequences again before each
// test, and stop it after the suite.
const path = require("node:path");
const { useAimock } = require("aimock-rs/jest");
const OpenAI = require("openai");
const Anthropic = require("@anthropic-ai/sdk");

const before = process.env.OPENAI_BASE_URL;
const aimock = useAimock({ fixtures: path.join(__dirname, "..", "fixtures") });

describe("useAimock under jest", () => {
  test("the patched environment leads the official clients to the server", async () => {
    const { llm, url } = aimock();
    expect(process.env.OPENAI_BASE_URL).toBe(`${url}/v1`);
    expect(process.env.ANTHROPIC_BASE_URL).toBe(url);
    const openai = new (OpenAI.default ?? OpenAI)({ apiKey: "test" });
    const fromFile = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hello" }],
    });
    expect(fromFile.choices[0].message.content).toBe("Hi from npx");
    llm.onMessage("jest", { content: "from jest" });
    const anthropic = new (Anthropic.default ?? Anthropic)({ apiKey: "test" });
    const msg = await anthropic.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 32,
      messages: [{ role: "user", content: "jest here" }],
    });
    expect(msg.content[0].text).toBe("from jest");
  });

  test("sequences start again in every test (beforeEach resets the match counts)", async () => {
    const { llm } = aimock();
    llm.on({ userMessage: "count", sequenceIndex: 0 }, { content: "first" });
    llm.on({ userMessage: "count", sequenceIndex: 1 }, { content: "second" });
    const openai = new (OpenAI.default ?? OpenAI)({ apiKey: "test" });
    const ask = async () =>
      (
        await openai.chat.completions.create({
          model: "gpt-4o",
          messages: [{ role: "user", content: "count" }],
        })
      ).choices[0].message.content;
    expect(await ask()).toBe("first");
    expect(await ask()).toBe("second");
  });

  test("and again here: the sequence is back at its start", async () => {
    const openai = new (OpenAI.default ?? OpenAI)({ apiKey: "test" });
    const r = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "count" }],
    });
    expect(r.choices[0].message.content).toBe("first");
  });
});

afterAll(() => {
  // useAimock's own afterAll ran first (registered first): the environment is put back.
  expect(process.env.OPENAI_BASE_URL).toBe(before);
});
