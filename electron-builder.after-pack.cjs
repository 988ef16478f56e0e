// electron-builder afterPack hook: flips Electron's fuses in the packed app before it is signed
// and wrapped (AppImage/deb/dmg/nsis). With these, the shipped binary cannot be turned into a
// plain Node runtime (ELECTRON_RUN_AS_NODE, NODE_OPTIONS, --inspect) and loads app code only from
// its own asar archive, whose integrity is checked at start-up.
const path = require('node:path');
const { flipFuses, FuseVersion, FuseV1Options } = require('@electron/fuses');

module.exports = async function afterPack(context) {
  const { electronPlatformName, appOutDir, packager } = context;
  const name = packager.appInfo.productFilename;
  const binary =
    electronPlatformName === 'darwin'
      ? path.join(appOutDir, `${name}.app`)
      : electronPlatformName === 'win32'
        ? path.join(appOutDir, `${name}.exe`)
        : path.join(appOutDir, packager.executableName);
  await flipFuses(binary, {
    version: FuseVersion.V1,
    // macOS arm64 binaries must be re-signed after the fuses change; electron-builder signs later.
    resetAdHocDarwinSignature: electronPlatformName === 'darwin',
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: false,
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    [FuseV1Options.EnableCookieEncryption]: true,
    // The app is served from its own lathe:// scheme, so file:// needs no extra privileges.
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  });
};
