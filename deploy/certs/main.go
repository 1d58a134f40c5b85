// Command certs writes a fresh certificate set for a Temporal server with
// mTLS (internal/certs, standard library only): a CA, a server certificate
// it signs and a client certificate it signs, as PEM files.
//
//	go run ./deploy/certs -out deploy/compose/tls -server-name temporal
//
// deploy/compose mounts that directory's files as compose secrets (it is
// git-ignored: a set is never committed). For Kubernetes it can seed a
// test cluster's Secret temporal-client-tls (the command prints how); a
// real cluster uses its own PKI or cert-manager instead.
//
// Compose bind-mounts a file secret with the host file's owner and mode,
// and the images run as different users (Temporal's, the UI's, the
// product's non-root 65532), so the files are made readable by all
// (0644) and the directory holding them must be private (0700): it is
// created so, and an existing one that others can enter is refused.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/belvo-temporal/backbone/internal/certs"
)

// options are the command's flags.
type options struct {
	out, serverName, clientName string
	validity                    time.Duration
	force                       bool
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "", "directory to write the set into (created 0700; required)")
	flag.StringVar(&o.serverName, "server-name", "", "DNS name of the server certificate, the name clients verify (TEMPORAL_TLS_SERVER_NAME): temporal for deploy/compose (required)")
	flag.StringVar(&o.clientName, "client-name", "belvo-backbone", "common name of the client certificate")
	flag.DurationVar(&o.validity, "validity", 365*24*time.Hour, "how long the certificates are valid")
	flag.BoolVar(&o.force, "force", false, "replace a set already in -out (restart everything that uses it afterwards)")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "certs:", err)
		os.Exit(1)
	}
}

// run writes the set and tells w what was written and how to use it.
func run(o options, w io.Writer) error {
	if o.out == "" || o.serverName == "" {
		return errors.New("-out and -server-name are required")
	}
	if o.validity <= 0 {
		return fmt.Errorf("-validity %s: want a positive duration", o.validity)
	}
	if err := checkDir(o.out, o.force); err != nil {
		return err
	}
	set, err := certs.Generate(o.out, certs.Options{ServerName: o.serverName, ClientName: o.clientName, Validity: o.validity})
	if err != nil {
		return err
	}
	for _, f := range []string{set.CA, set.ServerCert, set.ServerKey, set.ClientCert, set.ClientKey} {
		// Readable by the containers' users through compose's bind mount
		// (see the package comment); checkDir made sure the directory
		// keeps everyone else on this machine out.
		if err := os.Chmod(f, 0o644); err != nil { //nolint:gosec // G302: the containers run as other users; the directory is 0700
			return fmt.Errorf("make %s readable: %w", f, err)
		}
	}
	fmt.Fprintf(w, "wrote to %s, valid %s:\n", set.Dir, o.validity)
	fmt.Fprintf(w, "  the CA: %s\n", filepath.Base(set.CA))
	fmt.Fprintf(w, "  the server's (%s): %s, %s\n", set.ServerName, filepath.Base(set.ServerCert), filepath.Base(set.ServerKey))
	fmt.Fprintf(w, "  the client's (%s): %s, %s\n", set.ClientName, filepath.Base(set.ClientCert), filepath.Base(set.ClientKey))
	fmt.Fprintf(w, "Kubernetes (a test cluster; use your PKI or cert-manager in production):\n")
	fmt.Fprintf(w, "  kubectl -n belvo create secret generic temporal-client-tls --type=kubernetes.io/tls \\\n")
	fmt.Fprintf(w, "    --from-file=tls.crt=%s --from-file=tls.key=%s --from-file=ca.crt=%s\n", set.ClientCert, set.ClientKey, set.CA)
	return nil
}

// checkDir refuses a directory others can enter (the keys written into it
// are made readable) and, unless force, one that is not empty: replacing
// the CA under a running stack breaks every connection made after a
// restart.
func checkDir(dir string, force bool) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // certs.Generate creates it 0700
	case err != nil:
		return fmt.Errorf("-out: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("-out %s is not a directory", dir)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("-out %s is open to other users (mode %04o) and the keys written into it are readable: chmod 700 it or choose a new directory", dir, fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if len(entries) > 0 && !force {
		return fmt.Errorf("%s is not empty (a certificate set already?): -force replaces the set, then restart everything that uses it", dir)
	}
	return nil
}
