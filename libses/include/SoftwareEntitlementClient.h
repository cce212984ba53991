// SoftwareEntitlementClient.h: the interface of the Azure Batch Software
// Entitlement SDK's native C++ library, header-only over libses (ses.h).
//
// A program written against the SDK's header compiles unchanged against this
// one and links with -lses (plus -lpthread for the static library). What
// differs from the SDK's library, which used libcurl and OpenSSL:
//   - Init() is not needed, may be called from anywhere, and returns 0;
//     Cleanup() does nothing. Every function is safe to call from many
//     threads at once.
//   - The built-in pins are Microsoft's current Azure CAs, and the pin is
//     checked inside the TLS handshake: a server whose verified chain holds
//     no pin never receives the token.
//   - A host outside the Batch hosts is accepted only when a certificate
//     added with AddSslCertificate is in its verified chain, by SHA-1
//     thumbprint and common name; the built-in pins count for nothing there.
//   - Trust comes from the system roots (on Linux they honour SSL_CERT_FILE
//     and SSL_CERT_DIR, read from the environment the process started with).
// GetEntitlement asks with api-version 2017-05-01.5.0, so VmId() is filled,
// and throws Exception on every failure: Exception::what() is the reason.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>

#include "ses.h"

namespace Microsoft {
namespace Azure {
namespace Batch {
namespace SoftwareEntitlement {

// Init does nothing and returns 0; it is kept for programs written for the
// SDK's library, which needed it before any thread was started.
inline int Init()
{
    return 0;
}

// Cleanup does nothing; the library holds nothing that needs ending.
inline void Cleanup()
{
}

// Exception is every failure of GetEntitlement and AddSslCertificate.
class Exception : public std::runtime_error
{
public:
    explicit Exception(const std::string& message)
        : std::runtime_error(message)
    {
    }

    explicit Exception(const char* message)
        : std::runtime_error(message)
    {
    }
};

namespace detail {

// Owned frees the strings of a ses_entitlement when it goes.
struct Owned
{
    ses_entitlement e;

    Owned()
        : e()
    {
    }

    ~Owned()
    {
        ses_free(e.id);
        ses_free(e.vmid);
    }

    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
};

} // namespace detail

class Entitlement;
std::unique_ptr<Entitlement> GetEntitlement(
    std::string& url,
    const std::string& entitlement_token,
    const std::string& requested_entitlement);

// Entitlement is an approved entitlement: its id and the VM's id.
class Entitlement
{
private:
    std::string m_id;
    std::string m_vmid;

    struct Approved {};
    Entitlement(Approved, const ses_entitlement& e)
        : m_id(e.id != nullptr ? e.id : "")
        , m_vmid(e.vmid != nullptr ? e.vmid : "")
    {
    }

    friend std::unique_ptr<Entitlement> GetEntitlement(
        std::string& url,
        const std::string& entitlement_token,
        const std::string& requested_entitlement);

public:
    // Entitlement reads the text of the server's answer to api-version
    // 2017-05-01.5.0; it throws Exception when the id or the vmid is
    // missing.
    Entitlement(const std::string& response)
    {
        detail::Owned parsed;
        ses_error err;
        if (ses_parse_entitlement("2017-05-01.5.0", response.c_str(), &parsed.e, &err) != SES_OK)
        {
            throw Exception(err.message);
        }
        m_id = parsed.e.id;
        m_vmid = parsed.e.vmid != nullptr ? parsed.e.vmid : "";
    }

    virtual ~Entitlement()
    {
    }

    const std::string& Id() const
    {
        return m_id;
    }

    const std::string& VmId() const
    {
        return m_vmid;
    }
};

namespace detail {

// Client is the one handle the SDK's functions share: AddSslCertificate
// adds to it, GetEntitlement asks with it.
class Client
{
    ses_client* m_client;
    std::string m_failure;

public:
    Client()
        : m_client(nullptr)
    {
        ses_error err;
        if (ses_client_new(&m_client, &err) != SES_OK ||
            ses_client_set_api_version(m_client, "2017-05-01.5.0", &err) != SES_OK ||
            ses_client_allow_pinned_hosts(m_client, 1, &err) != SES_OK)
        {
            m_failure = err.message;
        }
    }

    ~Client()
    {
        ses_client_free(m_client);
    }

    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    ses_client* Get() const
    {
        if (!m_failure.empty())
        {
            throw Exception(m_failure);
        }
        return m_client;
    }
};

inline Client& Shared()
{
    static Client client;
    return client;
}

} // namespace detail

// GetEntitlement asks the endpoint at url whether entitlement_token entitles
// this node to run requested_entitlement, and throws Exception unless it
// does. url is not changed.
inline std::unique_ptr<Entitlement> GetEntitlement(
    std::string& url,
    const std::string& entitlement_token,
    const std::string& requested_entitlement)
{
    detail::Owned approved;
    ses_error err;
    if (ses_check(detail::Shared().Get(), url.c_str(), entitlement_token.c_str(),
            requested_entitlement.c_str(), &approved.e, &err) != SES_OK)
    {
        throw Exception(err.message);
    }
    return std::unique_ptr<Entitlement>(new Entitlement(Entitlement::Approved(), approved.e));
}

// AddSslCertificate adds a certificate the server's verified chain may hold
// instead of a built-in pin: its SHA-1 thumbprint (hex; spaces and colons
// allowed) and its common name, which must match exactly as given (case
// aside). It throws Exception for a malformed thumbprint or an empty name.
inline void AddSslCertificate(
    const std::string& ssl_cert_thumbprint,
    const std::string& ssl_cert_common_name)
{
    if (ssl_cert_common_name.empty())
    {
        throw Exception("AddSslCertificate: the common name is empty; give the certificate's common name");
    }
    ses_error err;
    if (ses_client_add_pin(detail::Shared().Get(), ssl_cert_thumbprint.c_str(),
            ssl_cert_common_name.c_str(), &err) != SES_OK)
    {
        throw Exception(err.message);
    }
}

} // namespace SoftwareEntitlement
} // namespace Batch
} // namespace Azure
} // namespace Microsoft
