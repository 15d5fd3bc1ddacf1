"""The custom Lambda authorizer: validates JWTs or hashed API keys and returns an IAM policy.

This package is zipped at the archive root under ``ZIP_PACKAGE`` (see ``secure_api_authorizer.build``),
so its modules import each other relatively and this file imports nothing: the Lambda runtime
pays only for what a request needs.
"""

ZIP_PACKAGE = "secure_api_authorizer"
HANDLER = f"{ZIP_PACKAGE}.handler.handler"
