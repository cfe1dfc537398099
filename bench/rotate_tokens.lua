-- wrk script for `bench/run.py --users N` (N users, one token each) and `--tokens N` (N tokens of
-- one user): each request carries the next token of $BENCH_TOKENS_FILE (one token a line),
-- round-robin, as `Authorization: Bearer <token>`. Each wrk thread starts at the first token.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
local i = 0

request = function()
  i = i % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[i] })
end
