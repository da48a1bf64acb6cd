"""Neural architecture search as the book does it (chapter 17, c17e4 and c17e5): random search, hill
climbing and an evolutionary algorithm over small convnets, each candidate a job of the sweep."""
