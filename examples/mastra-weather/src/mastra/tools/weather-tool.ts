import { createTool } from '@mastra/core/tools';
import { z } from 'zod';

// Deterministic weather data: the example never touches the network.
const WEATHER: Record<string, { temperature: number; conditions: string; humidity: number }> = {
  paris: { temperature: 18, conditions: 'Partly cloudy', humidity: 62 },
  london: { temperature: 14, conditions: 'Light rain', humidity: 81 },
  tokyo: { temperature: 22, conditions: 'Clear', humidity: 55 },
};

export const weatherTool = createTool({
  id: 'get-weather',
  description: 'Get the current weather for a city',
  inputSchema: z.object({
    city: z.string().describe('City name'),
    // Planted on purpose: mastra-admin must redact it from spans and logs.
    apiKey: z.string().optional().describe('Weather API key'),
  }),
  outputSchema: z.object({
    city: z.string(),
    temperature: z.number(),
    conditions: z.string(),
    humidity: z.number(),
  }),
  execute: async ({ city }, context) => {
    const logger = context?.mastra?.getLogger();
    logger?.info('fetching weather', { city, token: process.env.WEATHER_API_KEY });
    const found = WEATHER[city.trim().toLowerCase()] ?? { temperature: 20, conditions: 'Sunny', humidity: 50 };
    return { city, ...found };
  },
});
