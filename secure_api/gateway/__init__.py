"""The offline request model of API Gateway REST: how a request meets each layer."""
