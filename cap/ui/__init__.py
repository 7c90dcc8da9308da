"""The browser UI of `cap ui`: `session` (what it does, framework-free) and `app` (the Gradio page)."""
