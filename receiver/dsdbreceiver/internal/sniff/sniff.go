// Package sniff tells the protocols that share the dsdb receiver's TCP port apart by the first
// bytes of a connection, as OpenTSDB and the StatsHouse agent do.
package sniff

// Protocol is what a connection speaks.
type Protocol uint8

// The protocols of the port.
const (
	// Telnet is OpenTSDB's line protocol ("put ...", "version", ...), and anything else:
	// garbage then gets the line protocol's replies and counters.
	Telnet Protocol = iota
	// HTTP: the first byte is an upper-case ASCII letter. OpenTSDB's rule (PipelineFactory):
	// every HTTP method is upper case and no telnet command is.
	HTTP
	// StatsHouseJSON: the first byte is '{', StatsHouse's JSON packet prefix (0x7B); no
	// telnet command or HTTP method starts with it.
	StatsHouseJSON
)

func (p Protocol) String() string {
	switch p {
	case HTTP:
		return "http"
	case StatsHouseJSON:
		return "statshouse_json"
	}
	return "telnet"
}

// Detect returns the protocol of a connection whose first bytes are b; it needs one byte, and
// an empty b is Telnet.
func Detect(b []byte) Protocol {
	if len(b) == 0 {
		return Telnet
	}
	switch c := b[0]; {
	case 'A' <= c && c <= 'Z':
		return HTTP
	case c == '{':
		return StatsHouseJSON
	}
	return Telnet
}
