"""French -> English translation (chapters 14-15): Anki data, LSTM seq2seq, Transformer, decoding, BLEU."""
