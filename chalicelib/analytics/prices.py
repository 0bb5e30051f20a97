"""The seed list of model prices, USD per million tokens (input, output).

Source: the providers' public list prices for standard (non-batch, non-cached) usage, as published
on openai.com/api/pricing, anthropic.com/pricing and ai.google.dev/pricing, checked November 2026.
Update this list and run `make migrate` (or the migrate function in AWS): seeding upserts, it
never deletes a price. A team's own rows in `model_prices` (team_id set) override these, e.g. for
negotiated prices or self-hosted models. A model on neither list is reported as unpriced (cost
null, listed under `unpricedModels`), never as free.

Model ids are matched exactly, then with a provider prefix removed ("openai/gpt-4o" -> "gpt-4o"),
then with a trailing date suffix removed ("gpt-4o-2024-08-06" -> "gpt-4o").
"""
from __future__ import annotations

SOURCE = "provider list prices, checked 2026-11"

SEED: dict[str, tuple[float, float]] = {
    # OpenAI
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    # Anthropic
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-opus-4-1": (15.00, 75.00),
    # Google
    "gemini-1.5-flash": (0.075, 0.30),
    "gemini-1.5-pro": (1.25, 5.00),
    "gemini-2.0-flash": (0.10, 0.40),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-pro": (1.25, 10.00),
}
