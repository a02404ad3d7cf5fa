"""The report's chapters, one module each; every ``build(context)`` returns a Section."""
