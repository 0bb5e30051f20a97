import { Agent } from '@mastra/core/agent';
import { scriptedModel } from '../models/scripted-model';
import { weatherTool } from '../tools/weather-tool';

export const weatherAgent = new Agent({
  id: 'weatherAgent',
  name: 'Weather Agent',
  instructions: 'You answer questions about the weather. Use the get-weather tool to look it up.',
  model: scriptedModel,
  tools: { weatherTool },
});
