/*
 * sshd/hostkey.c: the server's ed25519 host key, generated once and then
 * reused, so clients never see a changed host key across restarts.
 *
 * The private key file is created under umask 077 (libssh writes it with a
 * plain fopen) and chmod'ed to 0600 again in case it came from elsewhere.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "cli/commands.h"
#include "common/err.h"
#include "common/home.h"
#include "sshd/sshd.h"

static int
sshd_hostkey_generate(const char *path, ssh_key *out)
{
	ssh_key key = NULL;
	mode_t old;
	int rc;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
		return err_set("cannot generate an ed25519 host key");
	old = umask(077);
	rc = ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path);
	umask(old);
	if (rc != SSH_OK) {
		ssh_key_free(key);
		return err_set("cannot write host key '%s'", path);
	}
	*out = key;
	return 0;
}

int
sshd_hostkey_load(ssh_key *out, char *fp, size_t fplen)
{
	char path[HOME_MAXPATH];
	ssh_key key = NULL;
	struct stat sb;

	*out = NULL;
	if (home_path(path, sizeof path, "%s", SSHD_HOSTKEY) == -1)
		return -1;
	if (stat(path, &sb) == 0) {
		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) !=
		    SSH_OK)
			return err_set("cannot read host key '%s'", path);
	} else if (errno == ENOENT) {
		if (sshd_hostkey_generate(path, &key) == -1)
			return -1;
	} else {
		return err_set("cannot stat '%s': %s", path, strerror(errno));
	}
	if (chmod(path, 0600) == -1) {
		err_set("cannot chmod '%s': %s", path, strerror(errno));
		ssh_key_free(key);
		return -1;
	}
	if (cmd_key_fingerprint(key, fp, fplen) == -1) {
		ssh_key_free(key);
		return -1;
	}
	*out = key;
	return 0;
}
