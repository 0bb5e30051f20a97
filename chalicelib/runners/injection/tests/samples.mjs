// Sample exported spans shaped like @mastra/observability 1.17's `exportedSpan` for one agent call
// with one tool (captured from the mastra-weather example), for tests of records.mjs.
export const STAMP = {
  teamId: 'team_1',
  projectId: 'proj_1',
  deploymentId: 'dep_1',
  buildId: 'bld_1',
  commit: 'abc123',
  environment: 'staging',
  serviceName: 'weather',
};

const TRACE = '812c2287e5c42e89a560e9bbe0fed013';
const at = (ms) => new Date(Date.UTC(2026, 10, 23, 12, 0, 0, ms));

export function sampleSpans() {
  return [
    {
      id: 'a9060c931691ca23',
      traceId: TRACE,
      name: "agent run: 'weatherAgent'",
      type: 'agent_run',
      startTime: at(0),
      endTime: at(115),
      isRootSpan: true,
      entityType: 'agent',
      entityId: 'weatherAgent',
      entityName: 'Weather Agent',
      attributes: { instructions: 'You answer questions about the weather.' },
      metadata: { runId: 'caf17603' },
      input: [{ role: 'user', content: 'Weather in Paris?' }],
      output: { text: 'It is 18°C and partly cloudy in Paris.' },
    },
    {
      id: '86445fd19c013fd0',
      traceId: TRACE,
      parentSpanId: 'a9060c931691ca23',
      name: "llm: 'gpt-4o-mini'",
      type: 'model_generation',
      startTime: at(100),
      endTime: at(180),
      isRootSpan: false,
      attributes: {
        model: 'gpt-4o-mini',
        provider: 'openai',
        streaming: true,
        responseModel: 'gpt-4o-mini',
        usage: { inputTokens: 40, outputTokens: 20, inputDetails: { text: 40 }, outputDetails: { text: 20 } },
      },
      metadata: { runId: 'caf17603', authorization: 'Bearer leaked' },
      input: { messages: [{ role: 'user', content: 'Weather in Paris?' }] },
      output: {
        text: 'It is 18°C and partly cloudy in Paris.',
        toolCalls: [{ toolCallId: 'call_1', toolName: 'get-weather', args: { city: 'Paris', apiKey: 'sk-planted-secret' } }],
      },
    },
    {
      id: '2b75cb83ee68a8d7',
      traceId: TRACE,
      parentSpanId: '86445fd19c013fd0',
      name: "tool: 'weatherTool'",
      type: 'tool_call',
      startTime: at(120),
      endTime: at(124),
      isRootSpan: false,
      attributes: { toolDescription: 'Get the current weather for a city', toolType: 'tool', success: true },
      metadata: { runId: 'caf17603' },
      input: { city: 'Paris', apiKey: 'sk-planted-secret' },
      output: { city: 'Paris', temperature: 18, conditions: 'Partly cloudy', humidity: 62 },
    },
  ];
}
