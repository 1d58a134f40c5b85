package netfault

import (
	"fmt"
	"time"
)

// Fault is one network fault: the toxics that make it, on one proxy.
type Fault struct {
	// Name says what it is ("latency 200ms±100ms", …); it keys the fault's
	// toxics, so one proxy carries at most one fault of a name.
	Name   string
	toxics []toxic
	// rearm, when set, removes and adds the toxics again at this interval
	// while the fault is on (Resets).
	rearm time.Duration
}

// Latency delays every chunk of data the upstream sends back by latency ±
// jitter (uniform), so each request–response round trip takes that much
// longer; the request direction is left alone, as a slow link is counted
// once per round trip. Order is kept: a chunk never overtakes another.
func Latency(latency, jitter time.Duration) Fault {
	name := fmt.Sprintf("latency %s±%s", latency, jitter)
	return Fault{Name: name, toxics: []toxic{{Name: name, Type: "latency", Stream: "downstream", Toxicity: 1,
		Attributes: map[string]any{"latency": latency.Milliseconds(), "jitter": jitter.Milliseconds()}}}}
}

// Bandwidth caps each connection at kbps KB/s in each direction.
func Bandwidth(kbps int) Fault {
	name := fmt.Sprintf("bandwidth %d KB/s", kbps)
	var ts []toxic
	for _, dir := range []string{"upstream", "downstream"} {
		ts = append(ts, toxic{Name: name + " " + dir, Type: "bandwidth", Stream: dir, Toxicity: 1,
			Attributes: map[string]any{"rate": kbps}})
	}
	return Fault{Name: name, toxics: ts}
}

// Resets cuts connections in the middle of what the upstream sends back:
// a connection the toxic picks (each one with probability share) is reset
// after another `after` bytes of response, wherever in a response that
// falls; every `every` the pick is made again for the connections alive,
// so connections keep being reset while the fault is on.
//
// Why limit_data and not toxiproxy's reset_peer: reset_peer swallows the
// first chunk it sees and then resets, so the client never gets a byte of
// the response (a reset before the response, not during it), and every
// new connection dies at its first answer (a TLS handshake never
// completes), which is an outage rather than resets. limit_data forwards
// the given bytes and then closes the connection; closed with SO_LINGER 0
// (which every proxy of this package sets, see Server.Proxy) the close is
// a TCP RST, so a client still reading gets ECONNRESET partway through a
// response. A share below 1 and the re-arming keep the fault from being a
// hard wall for responses longer than `after`: some connections carry
// them, as on a flaky link, and none is safe for long.
func Resets(after int, share float64, every time.Duration) Fault {
	name := fmt.Sprintf("resets after %d B", after)
	return Fault{Name: name, rearm: every, toxics: []toxic{{Name: name, Type: "limit_data", Stream: "downstream",
		Toxicity: float32(share), Attributes: map[string]any{"bytes": after}}}}
}

// Partition stops all data in both directions, on the connections open
// and on new ones, until the fault is removed; then what was sent during
// it is delivered, in order, and the connections carry on.
//
// That is what a partition shorter than TCP's patience does: packets are
// dropped, but TCP retransmits them, so a connection loses no byte: it
// stalls, and either survives (the partition heals before the ends'
// deadlines) or is closed by an end that gave up. Here the proxy holds the
// bytes instead of the network retransmitting them (a latency toxic of a
// day, whose removal forwards what it holds), with the same effect on
// the ends: writes stall once buffers fill, reads hang, deadlines and
// keepalives fire as they would, and new connections hang too (the
// proxy accepts them, so a client sees its connect succeed and then
// nothing, where a real partition would leave the connect hanging; both
// end at the client's deadline). Disabling the proxy would refuse new
// connections and close open ones, an immediate error, far easier for a
// client than silence. See Blackhole for toxiproxy's own partition.
func Partition() Fault {
	var ts []toxic
	for _, dir := range []string{"upstream", "downstream"} {
		ts = append(ts, toxic{Name: "partition " + dir, Type: "latency", Stream: dir, Toxicity: 1,
			Attributes: map[string]any{"latency": (24 * time.Hour).Milliseconds()}})
	}
	return Fault{Name: "partition", toxics: ts}
}

// Blackhole is toxiproxy's partition (the timeout toxic with timeout 0,
// both directions): like Partition while it lasts, but the bytes sent
// during it are discarded, and on healing toxiproxy resets the
// connections it held, since their streams lost bytes. No network does
// that to a TCP connection (TCP delivers every byte or resets); it is a
// middlebox that forgot the connection, and it turns every request in
// flight into one whose outcome the client cannot know.
func Blackhole() Fault {
	var ts []toxic
	for _, dir := range []string{"upstream", "downstream"} {
		ts = append(ts, toxic{Name: "blackhole " + dir, Type: "timeout", Stream: dir, Toxicity: 1,
			Attributes: map[string]any{"timeout": 0}})
	}
	return Fault{Name: "blackhole", toxics: ts}
}

// rearm removes and adds a fault's toxics every f.rearm until stop is
// closed: each time, every open connection gets a fresh allowance and a
// fresh draw of the toxicity.
func (p *Proxy) rearm(f Fault, stop chan struct{}) {
	t := time.NewTicker(f.rearm)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		select {
		case <-stop:
			p.mu.Unlock()
			return
		default:
		}
		for _, tx := range f.toxics {
			_ = p.remove(tx.Name)
			_ = p.add(tx) // fails only if it is there: then it is armed anyway
		}
		p.mu.Unlock()
	}
}
