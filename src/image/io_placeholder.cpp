// Replaced by the registry client implementation.
