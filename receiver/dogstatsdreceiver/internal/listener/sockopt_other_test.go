//go:build !linux

package listener

const udpDropCounterSupported = false
