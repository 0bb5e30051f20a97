import { MockLanguageModelV4 } from 'ai/test';
import { TOKEN_FACTOR } from '../variant';

// A scripted model (no network): the first step calls `get-weather`, the step after the tool
// result answers in text. It reports token usage and an OpenAI model id so cost can be computed.
const INPUT_TOKENS = Math.round(20 * TOKEN_FACTOR);
const OUTPUT_TOKENS = Math.round(10 * TOKEN_FACTOR);
const USAGE = {
  inputTokens: { total: INPUT_TOKENS, noCache: INPUT_TOKENS, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: OUTPUT_TOKENS, text: OUTPUT_TOKENS, reasoning: undefined },
};

type Prompt = Array<{ role: string; content: unknown }>;

function lastUserText(prompt: Prompt): string {
  for (let i = prompt.length - 1; i >= 0; i--) {
    const m = prompt[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content.map((p: any) => (p?.type === 'text' ? p.text : '')).join(' ');
    }
  }
  return '';
}

function toolResult(prompt: Prompt): any {
  for (let i = prompt.length - 1; i >= 0; i--) {
    const m = prompt[i];
    if (m.role === 'tool' && Array.isArray(m.content)) {
      const part: any = m.content.find((p: any) => p?.type === 'tool-result');
      if (part) return part.output?.value ?? part.output ?? part.result ?? {};
    }
  }
  return undefined;
}

function cityOf(text: string): string {
  const match = /weather in ([A-Za-z .'-]+)/i.exec(text);
  return (match ? match[1] : 'Paris').replace(/[?.!\s]+$/, '').trim() || 'Paris';
}

function plan(prompt: Prompt) {
  const result = toolResult(prompt);
  if (result === undefined) {
    const input = JSON.stringify({
      city: cityOf(lastUserText(prompt)),
      apiKey: process.env.WEATHER_API_KEY ?? 'unset', // read at call time on purpose
    });
    return { kind: 'tool' as const, toolCallId: `call_${Date.now().toString(36)}`, input };
  }
  const r = typeof result === 'string' ? safeParse(result) : result;
  // Deployed by mastra-admin, the answer names the build that served it (rollbacks are visible).
  const build = process.env.MASTRA_ADMIN_BUILD_ID ? ` [build ${process.env.MASTRA_ADMIN_BUILD_ID}]` : '';
  const text = `It is ${r?.temperature ?? '?'}°C and ${String(r?.conditions ?? 'unknown').toLowerCase()} in ${r?.city ?? 'the city'}.${build}`;
  return { kind: 'text' as const, text };
}

function safeParse(s: string): any {
  try {
    return JSON.parse(s);
  } catch {
    return {};
  }
}

const response = () => ({ id: `resp_${Date.now().toString(36)}`, timestamp: new Date(), modelId: 'gpt-4o-mini' });

export const scriptedModel = new MockLanguageModelV4({
  provider: 'openai',
  modelId: 'gpt-4o-mini',
  doGenerate: async ({ prompt }: any) => {
    const step = plan(prompt);
    if (step.kind === 'tool') {
      return {
        content: [{ type: 'tool-call', toolCallId: step.toolCallId, toolName: 'get-weather', input: step.input }],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage: USAGE,
        warnings: [],
        response: response(),
      } as any;
    }
    return {
      content: [{ type: 'text', text: step.text }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: USAGE,
      warnings: [],
      response: response(),
    } as any;
  },
  doStream: async ({ prompt }: any) => {
    const step = plan(prompt);
    const parts: any[] = [{ type: 'stream-start', warnings: [] }, { type: 'response-metadata', ...response() }];
    if (step.kind === 'tool') {
      parts.push({ type: 'tool-call', toolCallId: step.toolCallId, toolName: 'get-weather', input: step.input });
      parts.push({ type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: USAGE });
    } else {
      parts.push({ type: 'text-start', id: 't1' });
      parts.push({ type: 'text-delta', id: 't1', delta: step.text });
      parts.push({ type: 'text-end', id: 't1' });
      parts.push({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: USAGE });
    }
    const stream = new ReadableStream({
      start(controller) {
        for (const p of parts) controller.enqueue(p);
        controller.close();
      },
    });
    return { stream } as any;
  },
});
