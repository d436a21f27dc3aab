"""The QA engine, free of HTTP: question → follow-up resolution → retrieval → answerability → quotes → reply."""
