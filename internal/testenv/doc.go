// Package testenv decides what a test does when the machine lacks what it
// needs: skip on a developer's machine, fail under CI (CI=true), where
// lab/deps.sh has installed everything and a skip would hide a gap.
package testenv
