// check: a C++ program written against the Azure Batch Software Entitlement
// SDK's native interface, linked with libses; then a lease through the C API.
//
//   check URL TOKEN APP [THUMBPRINT COMMON_NAME]
//
// THUMBPRINT and COMMON_NAME name a certificate the server's chain must hold
// besides the built-in pins: against a local `ses server`, its development
// intermediate (and SSL_CERT_FILE its development root). The exit status is
// 0 when entitled, 1 otherwise.
//
//   c++ check.cpp -I../include -L.. -lses -lpthread -o check
#include <iostream>
#include <string>

#include "SoftwareEntitlementClient.h"

namespace ses = Microsoft::Azure::Batch::SoftwareEntitlement;

int main(int argc, char** argv)
{
    if (argc != 4 && argc != 6)
    {
        std::cerr << "usage: check URL TOKEN APP [THUMBPRINT COMMON_NAME]" << std::endl;
        return 2;
    }
    std::string url = argv[1];
    std::string token = argv[2];
    std::string app = argv[3];

    if (ses::Init() != 0)
    {
        return 1;
    }
    try
    {
        if (argc == 6)
        {
            ses::AddSslCertificate(argv[4], argv[5]);
        }
        auto entitlement = ses::GetEntitlement(url, token, app);
        std::cout << "entitled " << app << " " << entitlement->Id() << " vmid " << entitlement->VmId() << std::endl;
    }
    catch (const std::runtime_error& e)
    {
        std::cerr << "check: " << e.what() << std::endl;
        ses::Cleanup();
        return 1;
    }

    // The C API under the header holds a lease, with the same pins and
    // trust; the lease is released when the work is done.
    ses_client* client = nullptr;
    ses_lease lease = {};
    ses_error err;
    int rc = ses_client_new(&client, &err);
    if (rc == SES_OK && argc == 6)
    {
        rc = ses_client_add_pin(client, argv[4], argv[5], &err);
        if (rc == SES_OK)
        {
            rc = ses_client_allow_pinned_hosts(client, 1, &err);
        }
    }
    if (rc == SES_OK)
    {
        rc = ses_acquire(client, url.c_str(), token.c_str(), app.c_str(), 60, &lease, &err);
    }
    if (rc == SES_OK)
    {
        std::cout << "lease " << lease.id << " until " << lease.expiry << std::endl;
        rc = ses_release(client, url.c_str(), lease.id, &err);
        ses_free(lease.id);
    }
    if (rc != SES_OK)
    {
        std::cerr << "check: lease: " << err.message << std::endl;
    }
    ses_client_free(client);
    ses::Cleanup();
    return rc == SES_OK ? 0 : 1;
}
