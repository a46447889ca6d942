"""The algorithm layer, numpy only: scoring, induced architectures, greedy ranking, the ledger, encodings."""
