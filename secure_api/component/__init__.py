"""The `SecureApi` component: typed config, one module per layer, and the OpenAPI document."""
