"""The accuracy benchmark: a real small model, a real home, three agents, one run."""
