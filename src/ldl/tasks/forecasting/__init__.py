"""Time-series forecasting (chapter 9): book-store sales, the naive baseline and the forecast report."""
