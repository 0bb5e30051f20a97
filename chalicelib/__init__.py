"""mastra-admin control plane: everything `chalice package` ships besides app.py."""
