// Placeholder so the library has a source until the causal core lands.
