"""Is this article about international trade? Explainable, versioned verdicts and their evaluation."""
