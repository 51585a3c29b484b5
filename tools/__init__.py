"The project's own tools (not part of the package): running the tutorials, JupyterLab for the browser tests, the docs."
