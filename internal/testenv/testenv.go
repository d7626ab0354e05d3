package testenv

import (
	"fmt"
	"os"
	"testing"
)

// Missing skips the test, or fails it under CI=true, saying what is missing.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s (CI=true: every test must run)", msg)
	}
	tb.Skip(msg)
}
