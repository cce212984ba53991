// threads: the C++ interface from 16 threads at once, pins added while
// others check; then the Entitlement constructor and Exception.
//
//   threads URL TOKEN THUMBPRINT COMMON_NAME
//
// Exit 0 when every check was entitled with its own id and the vmid of
// api-version 2017-05-01.5.0, 1 otherwise.
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "SoftwareEntitlementClient.h"

namespace ses = Microsoft::Azure::Batch::SoftwareEntitlement;

int main(int argc, char** argv)
{
    if (argc != 5)
    {
        std::cerr << "usage: threads URL TOKEN THUMBPRINT COMMON_NAME" << std::endl;
        return 2;
    }
    const std::string url(argv[1]), token(argv[2]), thumbprint(argv[3]), cn(argv[4]);
    const int threads = 16, checks = 4;
    ses::AddSslCertificate(thumbprint, cn);

    std::vector<std::string> ids(threads * checks), failures(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++)
    {
        pool.emplace_back([&, t]() {
            try
            {
                for (int i = 0; i < checks; i++)
                {
                    if (i == 1 && t % 4 == 0)
                    {
                        // A pin added while other threads check.
                        ses::AddSslCertificate("00112233445566778899AABBCCDDEEFF00112233", "another CA");
                    }
                    std::string u = url;
                    auto e = ses::GetEntitlement(u, token, "contosoapp");
                    if (e->VmId().empty())
                    {
                        failures[t] = "no vmid";
                        return;
                    }
                    ids[t * checks + i] = e->Id();
                }
            }
            catch (const ses::Exception& e)
            {
                failures[t] = e.what();
            }
        });
    }
    for (auto& th : pool)
    {
        th.join();
    }
    for (int t = 0; t < threads; t++)
    {
        if (!failures[t].empty())
        {
            std::cerr << "thread " << t << ": " << failures[t] << std::endl;
            return 1;
        }
    }
    if (std::set<std::string>(ids.begin(), ids.end()).size() != ids.size())
    {
        std::cerr << "two checks got the same entitlement id" << std::endl;
        return 1;
    }

    ses::Entitlement parsed("{\"id\":\"entitlement-1\",\"vmid\":\"vm-42\"}");
    if (parsed.Id() != "entitlement-1" || parsed.VmId() != "vm-42")
    {
        std::cerr << "Entitlement(response) read " << parsed.Id() << " " << parsed.VmId() << std::endl;
        return 1;
    }
    for (const char* bad : {"{\"vmid\":\"vm-42\"}", "{\"id\":\"entitlement-1\"}", "<html>"})
    {
        try
        {
            ses::Entitlement e(bad);
            std::cerr << "Entitlement(response) accepted " << bad << std::endl;
            return 1;
        }
        catch (const ses::Exception&)
        {
        }
    }
    try
    {
        ses::AddSslCertificate("not a thumbprint", "x");
        std::cerr << "AddSslCertificate accepted a malformed thumbprint" << std::endl;
        return 1;
    }
    catch (const ses::Exception&)
    {
    }
    std::cout << "threads: " << threads << " threads, " << checks << " checks each, all entitled, ids distinct" << std::endl;
    return 0;
}
