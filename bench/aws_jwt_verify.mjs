// aws-jwt-verify's warm verify, the peer bench/bench_authorizer.py measures the handler against.
// stdin: {tokens: {RS256: [jwt, ...], ES256: [jwt, ...]}, jwks, issuer, clientId, jwksUri, rounds, batch, warmup}
// stdout: {RS256: {same: {p50, p99}, fresh: {p50, p99}}, ES256: ...} in microseconds per call: "same" verifies
// the first token again and again, "fresh" cycles through all of them (a new token each call).
// The checks match the handler's: issuer, expiry, client_id, a cached JWKS (no fetch while timed).
import { readFileSync } from "node:fs";
import { JwtVerifier } from "aws-jwt-verify";

const input = JSON.parse(readFileSync(0, "utf8"));

function measure(call) {
  for (let i = 0; i < input.warmup; i++) call();
  const samples = [];
  for (let r = 0; r < input.rounds; r++) {
    for (let i = 0; i < input.batch; i++) {
      const start = process.hrtime.bigint();
      call();
      samples.push(Number(process.hrtime.bigint() - start) / 1000);
    }
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)], p99: samples[Math.floor(samples.length * 0.99)] };
}

const out = {};
for (const [alg, tokens] of Object.entries(input.tokens)) {
  const verifier = JwtVerifier.create({
    issuer: input.issuer,
    audience: null,
    jwksUri: input.jwksUri,
    customJwtCheck: ({ payload }) => {
      if (payload.client_id !== input.clientId) throw new Error("client_id");
    },
  });
  verifier.cacheJwks(input.jwks);
  let next = 0;
  out[alg] = {
    same: measure(() => verifier.verifySync(tokens[0])),
    fresh: measure(() => verifier.verifySync(tokens[next++ % tokens.length])),
  };
}
process.stdout.write(JSON.stringify(out));
