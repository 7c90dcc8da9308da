"""reasoning: questions over synthetic tabletop scenes answered in natural language, with chain-of-thought, or with code."""
