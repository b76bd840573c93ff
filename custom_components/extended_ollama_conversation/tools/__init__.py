"""Tool calling: what the model is offered, and how its calls are checked and run."""
