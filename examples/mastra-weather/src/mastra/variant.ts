// Which variant of the example this source builds. The release guard's end-to-end test
// (tests/e2e/test_release_guard.py) builds worse variants of the same source by rewriting this line:
// the scripted model then reports this many times the tokens, so each run costs that much more.
export const TOKEN_FACTOR = 1;
