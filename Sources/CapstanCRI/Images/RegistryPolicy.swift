import CapstanCore

/// Where registry requests may go, over what, and which of them carry credentials.
///
/// - Plain HTTP only to loopback: an IP literal in 127.0.0.0/8 or `::1`, or `localhost`
///   resolved to such addresses (``Loopback``). Decided on addresses, never on how a name is
///   spelled: `localhost.evil.example` and `127.evil.example` get HTTPS like any other name.
/// - The user's credentials (basic auth from `AuthConfig`, or its identity token) go to the
///   registry itself and to a token realm that is HTTPS on the registry's own host or one of
///   its subdomains (Docker Hub's `auth.docker.io` for `docker.io`), or, for a loopback
///   registry, plain HTTP on the same loopback host. Any other realm is asked for a token
///   anonymously.
/// - Redirects (registries send blob downloads to storage hosts) are followed without the
///   `Authorization` header unless they stay on the registry's own origin, and never from
///   HTTPS to plain HTTP on a non-loopback host.
package enum RegistryPolicy {
    /// The base URL of the registry a reference names (`docker.io` is `registry-1.docker.io`).
    package static func baseURL(forRegistry registry: String) throws -> RegistryURL {
        guard let address = RegistryAddress(registry) else {
            throw CRIError.invalidArgument("\(registry.prefix(200).debugDescription) is not a registry host")
        }
        let host = address.host == "docker.io" ? "registry-1.docker.io" : address.host
        let loopback = Loopback.connectAddress(for: host) != nil
        let scheme = loopback ? "http" : "https"
        return RegistryURL(scheme: scheme, host: host, port: address.port ?? (loopback ? 80 : 443), target: "/")
    }

    /// The address to connect to for `url`: its host for HTTPS; for plain HTTP the loopback
    /// literal it resolves to, or an error when it is not loopback.
    package static func connectHost(for url: RegistryURL) throws -> String {
        guard url.scheme == "http" else { return url.host }
        guard let address = Loopback.connectAddress(for: url.host) else {
            throw CRIError(.unavailable, "refusing plain HTTP to \(url.authority): only loopback registries are spoken to without TLS")
        }
        return address
    }

    /// Throws unless a redirect to `next` may be followed (HTTPS, or HTTP to loopback).
    package static func checkRedirect(to next: RegistryURL, registryName: String) throws {
        if next.scheme == "http" && Loopback.connectAddress(for: next.host) == nil {
            throw CRIError(.unavailable, "registry \(registryName) redirected to plain HTTP on \(next.authority), which is not loopback")
        }
    }

    /// Throws unless a token may be fetched from `realm` at all: HTTPS, or plain HTTP on
    /// loopback when the registry itself is loopback.
    package static func checkTokenRealm(_ realm: RegistryURL, registry: RegistryURL) throws {
        guard realm.scheme == "http" else { return }
        guard registry.scheme == "http", Loopback.connectAddress(for: realm.host) != nil else {
            throw CRIError(.unavailable, "registry \(registry.authority) named a plain-HTTP token realm \(realm.authority); refusing it")
        }
    }

    /// Whether the token realm `realm` may receive the user's credentials for `registry`.
    /// - Parameter registryName: the registry as the image reference names it (`docker.io`).
    package static func mayReceiveCredentials(realm: RegistryURL, registry: RegistryURL, registryName: String) -> Bool {
        if realm.scheme == "http" {
            // Only in a loopback setup: the same loopback host the registry is on.
            return registry.scheme == "http" && realm.host == registry.host && Loopback.connectAddress(for: realm.host) != nil
        }
        guard realm.scheme == "https" else { return false }
        let named = RegistryAddress(registryName)?.host
        for owner in [registry.host, named].compactMap({ $0 }) {
            if realm.host == owner { return true }
            // A subdomain belongs to the registry's owner, unless the "host" is an address
            // or localhost, which have no subdomains of their own.
            let isName = IPLiteral(owner) == nil && owner != "localhost"
            if isName && owner.contains(".") && realm.host.hasSuffix("." + owner) { return true }
        }
        return false
    }
}
