"""The domain's verbs. Services take plain values, return domain objects or raise
`DomainError`; they know nothing of requests and responses."""
