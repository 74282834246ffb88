// Stand-in source tree of Smokescreen (github.com/stripe/smokescreen) for the
// zulip.server collection's tests: tests/release/deps/golang's `go build`
// turns main.py into the binary.
module github.com/stripe/smokescreen

go 1.24
