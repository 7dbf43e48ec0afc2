/*
 * cli/cmd_deploy.h: deploys that do not come from `git push` (deploy,
 * deploy:tar, deploy:image) and `releases:info`. The deploys call the
 * pipeline a push goes through (builder/deploy.h) in the command's
 * process, so a build is exactly a push's build, with its output on the
 * channel.
 */
#ifndef MINPAAS_CMD_DEPLOY_H
#define MINPAAS_CMD_DEPLOY_H

#include "cli/commands.h"

/* The commands (usage and help text in cli/commands.c's table); each
 * returns its exit status. */
int cmd_deploy(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_deploy_tar(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_deploy_image(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_releases_info(struct cmd_ctx *ctx, int argc, char **argv);

#endif
