// Placeholder so the library has a source until the stats core lands.
