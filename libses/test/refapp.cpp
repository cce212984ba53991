// refapp: a program written only against the Azure Batch Software
// Entitlement SDK's native C++ interface, as a vendor wrote it for the SDK's
// library; test.sh builds it unchanged against libses with
//   g++ refapp.cpp -Ilibses/include -Llibses -lses -lpthread
//
//   refapp URL TOKEN APP [THUMBPRINT COMMON_NAME]
//
// Exit 0 and "entitled ID VMID" when entitled; 1 and the exception's text
// when not.
#include <iostream>
#include <string>

#include "SoftwareEntitlementClient.h"

using namespace Microsoft::Azure::Batch::SoftwareEntitlement;

int main(int argc, char** argv)
{
    if (argc != 4 && argc != 6)
    {
        std::cerr << "usage: refapp URL TOKEN APP [THUMBPRINT COMMON_NAME]" << std::endl;
        return 2;
    }
    std::string url(argv[1]);
    const std::string token(argv[2]);
    const std::string app(argv[3]);

    int err = Init();
    if (err != 0)
    {
        std::cerr << "Init failed: " << err << std::endl;
        return 1;
    }
    int status = 0;
    try
    {
        if (argc == 6)
        {
            AddSslCertificate(argv[4], argv[5]);
        }
        std::unique_ptr<Entitlement> entitlement = GetEntitlement(url, token, app);
        const Entitlement& e = *entitlement;
        std::cout << "entitled " << e.Id() << " " << e.VmId() << std::endl;
    }
    catch (const Exception& e)
    {
        std::cerr << "refused: " << e.what() << std::endl;
        status = 1;
    }
    Cleanup();
    return status;
}
