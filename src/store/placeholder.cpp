// Replaced by the store implementation.
