"""What every benchmark shares: durable records with resume, pass@k, progress bars, JSON reports."""
