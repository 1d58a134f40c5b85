// Package fakefrontend is a recording stand-in for Temporal's frontend, for
// tests of how clients connect: enough of the WorkflowService for a client
// to connect (GetSystemInfo) and list workflows, in plaintext, TLS or mTLS,
// recording what each call carried. It never runs workflows.
package fakefrontend

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/belvo-temporal/backbone/internal/certs"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// Call is what the frontend saw of one call: how the client connected and
// what it sent besides the request.
type Call struct {
	Method        string
	TLS           bool
	ServerName    string // SNI
	ClientCN      string // the client certificate's common name
	Authorization string
	Team          string // the x-team gRPC metadata
	Namespace     string
	// Compression is the encoding of the request's body ("" when it came
	// uncompressed, "gzip" …).
	Compression string
}

// Frontend is the running stand-in.
type Frontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	// Addr is where it listens (127.0.0.1).
	Addr  string
	mu    sync.Mutex
	calls []Call
}

// Mode is how a Frontend accepts connections.
type Mode int

// The modes.
const (
	Plaintext Mode = iota
	ServerTLS      // TLS; a client certificate is read if offered
	MutualTLS      // TLS, a client certificate the CA signed required
)

// Start serves a Frontend on a free loopback port until the test ends;
// with TLS it presents set's server certificate and trusts set's CA for
// clients.
func Start(t testing.TB, mode Mode, set certs.Set) *Frontend {
	t.Helper()
	f := &Frontend{}
	opts := []grpc.ServerOption{grpc.UnaryInterceptor(f.record)}
	if mode != Plaintext {
		pair, err := tls.LoadX509KeyPair(set.ServerCert, set.ServerKey)
		if err != nil {
			t.Fatal(err)
		}
		caPEM, err := os.ReadFile(set.CA)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		conf := &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
		if mode == MutualTLS {
			conf.ClientAuth = tls.RequireAndVerifyClientCert
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(conf)))
	}
	srv := grpc.NewServer(opts...)
	workflowservice.RegisterWorkflowServiceServer(srv, f)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return f
}

func (f *Frontend) record(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	c := Call{Method: info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		c.Authorization = strings.Join(md.Get("authorization"), ",")
		c.Team = strings.Join(md.Get("x-team"), ",")
	}
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			c.TLS, c.ServerName = true, ti.State.ServerName
			if len(ti.State.PeerCertificates) > 0 {
				c.ClientCN = ti.State.PeerCertificates[0].Subject.CommonName
			}
		}
	}
	if s, ok := grpc.ServerTransportStreamFromContext(ctx).(interface{ RecvCompress() string }); ok {
		c.Compression = s.RecvCompress()
	}
	if r, ok := req.(interface{ GetNamespace() string }); ok {
		c.Namespace = r.GetNamespace()
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	return handler(ctx, req)
}

// Listed is the calls that listed workflows (the ones that carry a
// namespace), and forgets every call so far.
func (f *Frontend) Listed() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if c.Method == "ListWorkflowExecutions" {
			out = append(out, c)
		}
	}
	f.calls = nil
	return out
}

// GetSystemInfo answers as a v1.29.1 server.
func (f *Frontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{ServerVersion: "1.29.1",
		Capabilities: &workflowservice.GetSystemInfoResponse_Capabilities{SdkMetadata: true}}, nil
}

// ListWorkflowExecutions lists nothing.
func (f *Frontend) ListWorkflowExecutions(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	return &workflowservice.ListWorkflowExecutionsResponse{}, nil
}
