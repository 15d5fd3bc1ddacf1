"""An offline model of what API Gateway REST does to a request."""
